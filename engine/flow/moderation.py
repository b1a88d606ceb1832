"""Content moderation of touch components, as pure functions (the flow validator and the reach tasks call them;
the workspace's banned-word list is read by engine/services/moderation.py and handed in).

Rules:
- **Banned words**: the workspace's list, matched case-insensitively anywhere in the component's text fields
  (content, signature, title, body, subject): a substring match, so it also catches words in scripts written
  without spaces (Chinese).
- **SMS length**: the text a customer receives (signature included, before variables are filled in) is at
  most `SMS_MAX_UNITS` characters: operators join at most that much into one long SMS. Its segment count is
  GSM 03.38's: 160 GSM-7 units in one message, 153 per part when split; any other character sends the whole
  message as UCS-2: 70 characters in one, 67 per part (UTF-16 units, so an emoji counts 2).
"""

from collections.abc import Collection
from typing import Any

#: GSM 03.38: the basic alphabet (one unit each) and its extension table (two units: escape + character); any
#: other character sends the whole message as UCS-2
GSM_BASIC = frozenset("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                      "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM_EXTENDED = frozenset("^{}\\[~]|€\f")
SMS_MAX_UNITS = 500
#: the text fields of the touch components that moderation reads
TEXT_FIELDS = ("content", "signature", "title", "body", "subject")
SMS_TYPES = ("text_sms",)


def sms_segments(text: str) -> tuple[int, int]:
    """(length in units, segments) of an SMS: GSM-7 text is 160 units in one message, 153 per part when split;
    anything else (Chinese, emoji) is UCS-2: 70 characters, 67 per part (UTF-16 units, so an emoji counts 2)."""
    if all(c in GSM_BASIC or c in GSM_EXTENDED for c in text):
        units, single, part = sum(2 if c in GSM_EXTENDED else 1 for c in text), 160, 153
    else:
        units, single, part = len(text.encode("utf-16-le")) // 2, 70, 67
    if units <= single:
        return units, 1 if units else 0
    return units, -(-units // part)


def sms_text(config: dict[str, Any]) -> str:
    """The SMS as sent, signature first (before variables are filled in)."""
    text = str(config.get("content") or "")
    signature = str(config.get("signature") or "")
    return f"【{signature}】{text}" if signature else text


def segment_label(text: str) -> str:
    """"2 SMS segments (161 GSM characters)": what an editor shows under SMS content."""
    units, parts = sms_segments(text)
    kind = "GSM" if all(c in GSM_BASIC or c in GSM_EXTENDED for c in text) else "Unicode"
    return f"{parts} SMS segment{'s' if parts != 1 else ''} ({units} {kind} characters)"


def banned_in(text: str, banned: Collection[str]) -> list[str]:
    """The banned words found in `text` (case-insensitive), in the list's order."""
    folded = text.casefold()
    return [w for w in banned if w and w.casefold() in folded]


def moderate_text(text: str, banned: Collection[str], *, sms: bool = False) -> list[str]:
    """Why `text` fails moderation ([] = it passes)."""
    reasons: list[str] = []
    found = banned_in(text, banned)
    if found:
        reasons.append("contains banned word" + ("s " if len(found) > 1 else " ")
                       + ", ".join(f"“{w}”" for w in found))
    if sms:
        units, parts = sms_segments(text)
        if units > SMS_MAX_UNITS:
            reasons.append(f"the SMS is {units} characters with its signature ({parts} segments); at most "
                           f"{SMS_MAX_UNITS} can be sent")
    return reasons


def moderate(component_type: str, config: dict[str, Any], banned: Collection[str]) -> list[str]:
    """Why a touch component's content fails moderation ([] = it passes, or the component sends no text)."""
    if component_type in SMS_TYPES:
        return moderate_text(sms_text(config), banned, sms=True)
    text = "\n".join(str(config[f]) for f in TEXT_FIELDS if isinstance(config.get(f), str))
    return moderate_text(text, banned) if text else []
