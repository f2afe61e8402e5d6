"""The checks of a request type's field list and of uploaded files, shared by the models (an
administrator saving a type), the forms and the services (the API), so each is written once."""

from __future__ import annotations

import re
from pathlib import PurePath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from tickets.choices import FieldKind

__all__ = ["validate_field_list", "validate_upload", "ALLOWED_UPLOAD_TYPES", "RESERVED_NAMES"]

FIELD_NAME_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
RESERVED_NAMES = {"subject", "system", "type", "request_type"}

# Extension → content type we store and serve; and the leading bytes a file must start with.
ALLOWED_UPLOAD_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    ".png": ("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": ("image/jpeg", (b"\xff\xd8\xff",)),
    ".gif": ("image/gif", (b"GIF87a", b"GIF89a")),
    ".pdf": ("application/pdf", (b"%PDF-",)),
    ".txt": ("text/plain", ()),
    ".log": ("text/plain", ()),
    ".csv": ("text/csv", ()),
    ".xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", (b"PK\x03\x04",)),
    ".docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", (b"PK\x03\x04",)),
}


def validate_field_list(fields) -> None:
    """Check an administrator's field list before it is saved."""
    if not isinstance(fields, list):
        raise ValidationError({"fields": _("The field list must be a JSON list of objects.")})
    seen = set()
    for i, spec in enumerate(fields, start=1):
        if not isinstance(spec, dict):
            raise ValidationError({"fields": _("Field %(n)s must be an object.") % {"n": i}})
        name = spec.get("name", "")
        if not isinstance(name, str) or not FIELD_NAME_RE.match(name) or name in RESERVED_NAMES:
            raise ValidationError({"fields": _("Field %(n)s: the name must be lower-case letters, digits and “_”, "
                                               "starting with a letter.") % {"n": i}})
        if name in seen:
            raise ValidationError({"fields": _("Field name “%(name)s” appears twice.") % {"name": name}})
        seen.add(name)
        if spec.get("kind") not in FieldKind.values:
            raise ValidationError({"fields": _("Field “%(name)s”: kind must be one of %(kinds)s.")
                                   % {"name": name, "kinds": ", ".join(FieldKind.values)}})
        if not isinstance(spec.get("label", ""), str) or not spec.get("label"):
            raise ValidationError({"fields": _("Field “%(name)s” needs a label.") % {"name": name}})
        if spec["kind"] == FieldKind.CHOICE:
            choices = spec.get("choices")
            if not choices or not all(isinstance(c, (list, tuple)) and len(c) == 2 for c in choices):
                raise ValidationError({"fields": _("Field “%(name)s”: choices must be a list of [value, label] "
                                                   "pairs.") % {"name": name}})


def validate_upload(upload) -> str:
    """Check size, extension and leading bytes of an uploaded file; return the content type to store."""
    max_bytes = getattr(settings, "OPSDESK_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024)
    if upload.size > max_bytes:
        raise ValidationError(_("The file is too large: at most %(mb)s MB.") % {"mb": max_bytes // (1024 * 1024)},
                              code="too_large")
    if upload.size == 0:
        raise ValidationError(_("The file is empty."), code="empty")
    suffix = PurePath(upload.name or "").suffix.lower()
    if suffix not in ALLOWED_UPLOAD_TYPES:
        raise ValidationError(_("Files of this type are not accepted. Allowed: %(types)s.")
                              % {"types": ", ".join(sorted(ALLOWED_UPLOAD_TYPES))}, code="type")
    content_type, magics = ALLOWED_UPLOAD_TYPES[suffix]
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    if magics and not any(head.startswith(m) for m in magics):
        raise ValidationError(_("The file's content does not match its type."), code="content")
    if not magics and b"\x00" in head:
        raise ValidationError(_("The file's content does not match its type."), code="content")
    return content_type
