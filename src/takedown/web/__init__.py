"""The web workspace: Jinja2 templates and static assets shipped with the package."""
