"""Write the few vetted texts the web widget must show without a server.

The widget shows its standing notice and, when the assistant can't be reached,
the on-call and emergency numbers. Those come from content/ like every other
word the assistant says, and are baked into the bundle at build time so that a
dead server can't take them away.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Dict

from content_library.content import Content, load_content
from content_library.signoff import SignOffError, require_fallbacks


def widget_content(content: Content) -> Dict[str, Any]:
    return {
        "notice": content.replies["notice"].text,
        "unreachable": content.replies["unreachable"].text,
        "calls": content.calls("unreachable"),
    }


def main(target: str) -> int:
    content = load_content()
    try:
        require_fallbacks(content)  # never bake unapproved words into a page that can't be updated from the server
    except SignOffError as error:
        print(f"export_widget_content: {error}", file=sys.stderr)
        return 1
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(widget_content(content), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else "widget/build/content.json"))
