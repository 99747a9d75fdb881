"""The one place a link from a BMC becomes something we request: an absolute path on the configured origin.

A BMC is not trusted. A link is accepted only as an absolute path (`/redfish/v1/...`, optional query),
with no scheme, no `//`, no `@`, no backslash and no control character; anything else is refused
(`BadLink`), never requested, whatever a URL library would have made of it (`base + "@evil:1/x"` is a URL
with user info and another host; `base + "0/x"` is another port). Dot segments and repeated slashes are
resolved, and the result must be a Redfish resource (under `/redfish/`, as DSP0266 requires of every
resource URI), so no link reaches another endpoint of the BMC either. A session's `Location` header may be
an absolute URL, but only of exactly the configured origin. Non-ASCII characters are percent-encoded
(they cannot change where a request goes); a `#fragment` is dropped.
"""

from __future__ import annotations

import posixpath
import urllib.parse

from ..core import ScrapeError
from ..core.http import BadLink


class Refused(BadLink):
    """BadLink with the reason the link was refused (the link shown with its control characters)."""

    def __init__(self, why: str) -> None:
        ScrapeError.__init__(self, "bad_link", f"refused link: {why}")


_MAX = 2048
# RFC 3986 characters left as they are (everything else printable is ASCII too; non-ASCII gets encoded).
_PATH_SAFE = "/%:;=,!$&'()*+-._~"
_QUERY_SAFE = "/?%:;=,!$&'()*+-._~"


def request_path(link: object) -> str:
    """`link` as the path to request (query kept, fragment and trailing slash dropped), or BadLink."""
    if not isinstance(link, str) or not link:
        raise Refused(f"not a link: {_show(link)}")
    if len(link) > _MAX:
        raise Refused(f"link longer than {_MAX} characters")
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in link):
        raise Refused(f"control character or space in link {_show(link)}")
    if "\\" in link or "@" in link:
        raise Refused(f"link {_show(link)} has a backslash or '@'")
    if not link.startswith("/") or link.startswith("//"):
        raise Refused(f"link {_show(link)} is not an absolute path")
    path = link.split("#", 1)[0]
    path, sep, query = path.partition("?")
    if any(e in path.lower() for e in ("%2e", "%2f", "%5c")):
        raise Refused(f"link {_show(link)} hides a dot, slash or backslash in percent-encoding")
    path = posixpath.normpath(path)  # no '.', '..', '//' or trailing '/' is ever sent
    if path != "/redfish" and not path.startswith("/redfish/"):
        raise Refused(f"link {_show(link)} is not a Redfish resource (outside /redfish/)")
    out = urllib.parse.quote(path, safe=_PATH_SAFE) + (
        sep + urllib.parse.quote(query, safe=_QUERY_SAFE) if sep else ""
    )
    # Defence in depth: joined to any origin, the result must keep that origin.
    probe = urllib.parse.urlsplit("http://origin.invalid:1" + out)
    if probe.netloc != "origin.invalid:1" or probe.scheme != "http":
        raise Refused(f"link {_show(link)} leaves the origin")
    return out


def location_path(location: object, origin: str) -> str:
    """A `Location` header as a path: an absolute path, or an absolute URL of exactly `origin`."""
    if isinstance(location, str) and location.lower().startswith(("http://", "https://")):
        parts = urllib.parse.urlsplit(location)
        want = urllib.parse.urlsplit(origin)
        if (
            (parts.scheme.lower(), _netloc(parts)) != (want.scheme.lower(), _netloc(want))
            or parts.username
            or parts.password is not None
            or "@" in parts.netloc
        ):
            raise Refused(f"Location {_show(location)} is not on {origin}")
        location = parts.path + (f"?{parts.query}" if parts.query else "")
    return request_path(location)


def _netloc(parts: urllib.parse.SplitResult) -> str:
    try:
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        return "?"  # a port that is not a number matches nothing
    return f"{(parts.hostname or '').lower()}:{port}"


def _show(link: object) -> str:
    """The link for a log line: repr (control characters visible), cut short."""
    s = repr(link)
    return s if len(s) <= 120 else s[:117] + "..."
