"""Sphinx extension of the rnnbook book: fixes to the HTML that Jupyter Book 1 writes.

- sphinx-thebe 0.3.1 registers its inline configuration script once per read of the
  environment, so a page can carry it twice, and the browser then stops at
  ``Identifier 'THEBE_JS_URL' has already been declared`` (once registered with the file name
  None, once with ""). Each page keeps one copy of every script (same file, same attributes and
  same inline body).
"""

from __future__ import annotations


def _script_identity(script) -> tuple:
    attributes = getattr(script, "attributes", {}) or {}
    filename = getattr(script, "filename", script) or ""  # an inline script: None or ""
    return (str(filename), tuple(sorted(attributes.items())))


def dedupe_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, kept = set(), []
    for script in scripts:
        identity = _script_identity(script)
        if identity not in seen:
            seen.add(identity)
            kept.append(script)
    context["script_files"] = kept


def setup(app):
    app.connect("html-page-context", dedupe_scripts, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
