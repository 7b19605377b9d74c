// The system prompt's counter, as the composer has one: the numbers near and over the limit,
// and Save refused while it is over, with the reason in the status line.
import { charCount, fmt } from './util.js';

export function wireSystemPromptCounter(page) {
  const { els, strings } = page;
  const counter = document.getElementById('system-prompt-counter');
  const limit = Number(page.app.dataset.maxSystemPromptChars);
  if (!counter || !limit) return;

  const update = () => {
    const length = charCount(els.systemPrompt.value);
    const over = length > limit;
    counter.textContent = length > limit * 0.8 ? fmt(strings.counter, { length, limit }) : '';
    counter.classList.toggle('is-over', over);
    els.saveSettings.disabled = over;
    // The status line was cleared by the edit (composer.js); while over, it says why.
    if (over) els.settingsStatus.textContent = fmt(strings.system_prompt_too_long, { limit });
  };
  els.systemPrompt.addEventListener('input', update);
  update();
}
