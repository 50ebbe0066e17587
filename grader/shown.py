"""How values are written into what people read, shared by every renderer (report.py and
integrations/gradescope_results.py, which must not import each other, summary, grades.csv,
the command's own lines, Gradescope's runner and nbgrader's cells).

Much of what a grader shows is the learner's: an exception's message, a line of code, a file
name. `escaped` makes any of it safe to put in front of a reader: no character that drives a
terminal (control characters, escape sequences: OSC 52 writes the clipboard), reorders or hides
text (bidi controls such as U+202E, zero-width characters), breaks a line where none is seen
(U+2028, U+2029), or cannot be written as UTF-8 at all (a lone surrogate, from an exception's
message or from a file name's bytes that are not UTF-8) survives: each is shown as its escape,
e.g. `\\u202e`. Everything else, accented letters included, is shown as it is.
"""

import os
import re

# Unicode's control (Cc), format (Cf), surrogate (Cs), line and paragraph separator (Zl, Zp)
# characters, tab excepted (it only moves the cursor right). Written out, not computed from
# unicodedata at import: that costs a tenth of a second per command. Format ranges are taken
# whole where Unicode is still filling them (Egyptian hieroglyph controls, tags).
_UNSAFE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\xad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u206f\ud800-\udfff\ufeff\ufff9-\ufffb"
    "\U000110bd\U000110cd\U00013430-\U0001345f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e007f]"
)


def _escape(found):
    code = ord(found.group())
    if code <= 0xFF:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def escaped(text):
    """TEXT (any str, or anything str() takes) with every unsafe character shown as its escape."""
    text = text if isinstance(text, str) else str(text)
    if text.isprintable():  # the common case, at C speed: every character _UNSAFE matches is not printable
        return text
    return _UNSAFE.sub(_escape, text)


def escaped_name(name):
    """A file name (str, with os.fsdecode's surrogates for bytes that are not UTF-8, or bytes) as text to
    show: its bytes decoded as UTF-8 where they are, every other byte and unsafe character escaped."""
    if not isinstance(name, bytes):
        try:
            name = os.fsencode(str(name))
        except UnicodeEncodeError:  # a surrogate no byte stands for: not from the file system
            return escaped(str(name))
    return escaped(name.decode("utf-8", "backslashreplace"))


def points(value):
    return f"{value:g}"


def cell_error_text(error):
    return f"{error.where}: {error.type}: {error.message}"
