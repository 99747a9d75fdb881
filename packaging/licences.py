"""One line per Python distribution in this interpreter's environment: name, version, licence.
Run by build.sh with a package's virtualenv, for the Debian copyright file."""

import importlib.metadata as md


def licence(meta: md.PackageMetadata) -> str:
    text = meta.get("License-Expression") or meta.get("License") or ""
    if text and len(text) <= 60 and "\n" not in text:
        return text
    classifiers = [
        c.split("::")[-1].strip() for c in meta.get_all("Classifier") or [] if c.startswith("License ::")
    ]
    return "; ".join(classifiers) or "see its dist-info directory"


for d in sorted(md.distributions(), key=lambda d: d.metadata["Name"].lower()):
    print(f" {d.metadata['Name']} {d.version}: {licence(d.metadata)}")
