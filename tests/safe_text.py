"""What "safe to read" means for the grader's outputs, checked the same way everywhere.

No character that drives a terminal or hides, reorders or breaks text: Unicode's control (Cc),
format (Cf: bidi controls, zero-width characters), surrogate (Cs) and line or paragraph separator
(Zl, Zp) characters, except the tab and the line breaks the renderer itself writes between lines.
"""

import unicodedata

UNSAFE_CATEGORIES = {"Cc", "Cf", "Cs", "Zl", "Zp"}


def unsafe_characters(text, allowed="\n\t"):
    return sorted(
        {f"U+{ord(c):04X}" for c in text if c not in allowed and unicodedata.category(c) in UNSAFE_CATEGORIES}
    )


def assert_safe(value, allowed="\n\t"):
    """Every str in VALUE (a str, or nested dicts and lists of them, as results.json) is safe to read."""
    if isinstance(value, str):
        found = unsafe_characters(value, allowed)
        assert not found, f"unsafe characters {found} in {value[:2000]!r}"
    elif isinstance(value, dict):
        for key, item in value.items():
            assert_safe(key, allowed)
            assert_safe(item, allowed)
    elif isinstance(value, (list, tuple)):
        for item in value:
            assert_safe(item, allowed)


def assert_safe_bytes(data, allowed="\n\t"):
    """A file's bytes: UTF-8 (a lone surrogate cannot be written as UTF-8) and safe text."""
    assert_safe(data.decode("utf-8"), allowed)
