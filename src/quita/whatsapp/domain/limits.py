"""Meta's documented size limits for outbound messages (§1 of the WhatsApp reference).

Checked before any HTTP call: a payload Meta would reject (131008/131009/100) is cheaper to refuse here,
with the field named, than to burn a send attempt and a rate-limit slot on it.
Lengths are counted in Unicode code points.
"""

from __future__ import annotations

TEXT_BODY_MAX = 4096
INTERACTIVE_BODY_MAX = 1024
HEADER_TEXT_MAX = 60
FOOTER_TEXT_MAX = 60
REPLY_BUTTONS_MAX = 3
REPLY_BUTTON_TITLE_MAX = 20
REPLY_BUTTON_ID_MAX = 256
LIST_BUTTON_TEXT_MAX = 20
LIST_SECTIONS_MAX = 10
LIST_ROWS_TOTAL_MAX = 10
LIST_SECTION_TITLE_MAX = 24
LIST_ROW_TITLE_MAX = 24
LIST_ROW_DESCRIPTION_MAX = 72
LIST_ROW_ID_MAX = 200
CTA_DISPLAY_TEXT_MAX = 20  # Meta's interactive CTA URL docs; not in the reference notes
MEDIA_CAPTION_MAX = 1024  # Meta's media message docs; not in the reference notes
BIZ_OPAQUE_CALLBACK_DATA_MAX = 512  # pywa caps its tracker there
WAMID_MAX = 128
TEMPLATE_NAME_MAX = 512
TEMPLATE_BUTTON_INDEX_MAX = 9

# Upload limits in bytes, by media kind.
MEDIA_MAX_BYTES = {
    "document": 100 * 1024 * 1024,
    "image": 5 * 1024 * 1024,
    "audio": 16 * 1024 * 1024,
    "video": 16 * 1024 * 1024,
    "sticker": 500 * 1024,
}
