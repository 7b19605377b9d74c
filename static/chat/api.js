// Requests to /api/: JSON in and out, the CSRF token on every call, and any failure turned into
// an ApiError whose message is fit to show.
import { fmt } from './util.js';

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

export function csrfToken() {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
  if (match) return decodeURIComponent(match[1]);
  const field = document.querySelector('input[name="csrfmiddlewaretoken"]');
  return field ? field.value : '';
}

// `strings` gives the messages for a network failure and for an error response that carries
// no `error` of its own.
export function createApi(strings) {
  return async function api(method, path, body) {
    const headers = { Accept: 'application/json', 'X-CSRFToken': csrfToken() };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response;
    try {
      response = await fetch(path, {
        method,
        headers,
        credentials: 'same-origin',
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(strings.network_error, 0);
    }
    if (response.status === 204) return null;
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const message = data && typeof data.error === 'string' ? data.error : fmt(strings.server_error, { status: response.status });
      throw new ApiError(message, response.status);
    }
    return data;
  };
}
