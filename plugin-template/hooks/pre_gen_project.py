"""Refuse names that would generate a package Python cannot import."""

import keyword
import re
import sys

package = "{{ cookiecutter.package_name }}"
class_name = "{{ cookiecutter.class_name }}"

for what, name in (("package_name", package), ("class_name", class_name)):
    if not name.isidentifier() or keyword.iskeyword(name):
        sys.exit(f"{what} {name!r} is not a Python identifier; choose another with {what}=...")
if not re.fullmatch(r"[a-z_][a-z0-9_]*", package):
    sys.exit(f"package_name {package!r} should be lower case letters, digits and underscores")
