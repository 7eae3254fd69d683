from django import forms
from django.contrib.auth.password_validation import password_validators_help_texts

from majorprojects.core.forms import BootstrapMixin
from majorprojects.organisation.models import Region, Unit

from .models import Role, User


class LoginForm(BootstrapMixin, forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    password = forms.CharField(label="密码", widget=forms.PasswordInput, strip=False)


class AccountForm(BootstrapMixin, forms.ModelForm):
    password = forms.CharField(
        label="初始密码",
        widget=forms.PasswordInput,
        strip=False,
        required=False,
        help_text=" ".join(password_validators_help_texts()[:2]),
    )

    class Meta:
        model = User
        fields = ["username", "full_name", "phone", "email", "role", "unit", "region"]
        labels = {"username": "用户名", "email": "电子邮箱"}

    def __init__(self, *args, creating: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = Unit.objects.filter(is_active=True).order_by("kind", "name")
        self.fields["region"].queryset = Region.objects.order_by("path")
        self.fields["password"].required = creating
        if not creating:
            del self.fields["password"]

    def clean(self):
        data = super().clean()
        role, unit, region = data.get("role"), data.get("unit"), data.get("region")
        if role == Role.COUNTY and not region:
            self.add_error("region", "县市区账号须指定管辖区域。")
        if role in (Role.DEPARTMENT, Role.PROJECT_UNIT) and not unit:
            self.add_error("unit", "部门和项目单位账号须指定所属单位。")
        return data


class PasswordForm(BootstrapMixin, forms.Form):
    old_password = forms.CharField(label="原密码", widget=forms.PasswordInput, strip=False)
    new_password = forms.CharField(
        label="新密码",
        widget=forms.PasswordInput,
        strip=False,
        help_text=" ".join(password_validators_help_texts()[:2]),
    )
    new_password2 = forms.CharField(label="确认新密码", widget=forms.PasswordInput, strip=False)

    def __init__(self, user, *args, **kwargs):
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_old_password(self):
        value = self.cleaned_data["old_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError("原密码不正确。")
        return value

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password2"):
            self.add_error("new_password2", "两次输入的新密码不一致。")
        return data


class TokenForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label="用途", max_length=100, help_text="如：省平台数据交换")
