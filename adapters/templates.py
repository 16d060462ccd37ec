"""The one way adapters build HTML: Jinja2 templates kept beside the package that shows them.

Every adapter package with pages keeps them in its own ``templates/`` folder (the connect
pages in ``adapters/calendars/templates``, the playground in ``adapters/web/templates``...)
and renders them through :func:`environment` or :func:`render`, so every page gets the same
safety: values are escaped unless a template says otherwise (``.txt`` templates, for plain
text such as emails, are not HTML and are left alone), and a name the template uses but the
caller didn't pass is an error, never an empty string on a page.
"""

from __future__ import annotations

from functools import cache

import jinja2


@cache
def environment(package: str) -> jinja2.Environment:
    """The environment of ``package``'s ``templates/`` folder, built once per package."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        autoescape=jinja2.select_autoescape(
            disabled_extensions=("txt",), default_for_string=True, default=True
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,  # templates ship with the code; no disk check on every render
    )


def render(package: str, template: str, /, **context: object) -> str:
    """``template`` of ``package`` filled in: ``render("adapters.web", "home.html", x=1)``."""
    return environment(package).get_template(template).render(**context)
