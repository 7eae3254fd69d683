from django.core.exceptions import ValidationError


class CharacterClassValidator:
    """At least three of: upper-case, lower-case, digits, other characters."""

    def validate(self, password, user=None):
        classes = [
            any(c.isupper() for c in password),
            any(c.islower() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
        if sum(classes) < 3:
            raise ValidationError(
                "密码须包含大写字母、小写字母、数字、符号中的至少三类。", code="password_classes"
            )

    def get_help_text(self):
        return "密码至少 8 位，且包含大写字母、小写字母、数字、符号中的至少三类。"
