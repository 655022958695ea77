from django import forms
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password

from orchestra.roles import configured_roles


def role_field() -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=[(role, role) for role in sorted(configured_roles())],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )


class LoginForm(forms.Form):
    # Django's standard field names, so password managers and scripts find them.
    username = forms.CharField(max_length=150)
    password = forms.CharField(widget=forms.PasswordInput, max_length=4096, strip=False)


class NewTokenForm(forms.Form):
    description = forms.CharField(max_length=200, required=False)


class RolesForm(forms.Form):
    roles = role_field()


class NewUserForm(forms.Form):
    username = forms.RegexField(r"^[\w.@+-]{1,150}$", max_length=150)
    password = forms.CharField(
        widget=forms.PasswordInput, required=False, strip=False, max_length=4096,
        help_text="Leave empty for a user that only uses API tokens (a worker, a script).",
    )
    roles = role_field()

    def clean_username(self) -> str:
        username = self.cleaned_data["username"]
        if username == "create":
            raise forms.ValidationError("This name is reserved (the website's /users/create/).")
        if User.objects.filter(username=username).exists():
            raise forms.ValidationError("A user with this name exists.")
        return username

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if password:
            validate_password(password)
        return password
