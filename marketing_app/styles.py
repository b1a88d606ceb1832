"""Design tokens shared by the shell and the pages, so spacing and surfaces stay consistent."""

SIDEBAR_WIDTH = "220px"
TREE_WIDTH = "232px"
CONTENT_MAX_WIDTH = "1560px"
PAGE_PADDING_X = "24px"
PAGE_PADDING_Y = "28px"
RADIUS = "10px"

# Radix colour tokens: the app background is a faint gray, panels are solid.
APP_BG = "var(--gray-2)"
PANEL_BG = "var(--color-panel-solid)"
BORDER = "1px solid var(--gray-a5)"
MUTED = "var(--gray-11)"

panel_style: dict[str, str] = {
    "background": PANEL_BG,
    "border": BORDER,
    "border_radius": RADIUS,
    "box_shadow": "0 1px 2px var(--black-a2)",
}
