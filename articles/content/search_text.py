"""Text as the site search sees it: folded (no accents, no case), in words. The index and the queries share it."""

import re
import unicodedata

WORD = re.compile(r"[^\W_]+")
# Letters that Unicode does not decompose into a base letter and an accent.
_LETTERS = str.maketrans({"œ": "oe", "æ": "ae", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ı": "i"})
FTS_TABLE = "articles_searchentry_fts"


def fold(text: str) -> str:
    """Text without accents, in a case-insensitive form: what is indexed and searched."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold().translate(_LETTERS)


def words(text: str) -> list[str]:
    return WORD.findall(fold(text))


def index_text(text: str) -> str:
    """The folded words of ``text``, one space apart: what both databases index."""
    return " ".join(words(text))
