from django.contrib.auth.forms import UserCreationForm


class SignupForm(UserCreationForm):
    """Username and password; nothing else is needed to chat."""
