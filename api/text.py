"""Text that PostgreSQL can store: one constrained string type for every free-text parameter and field.

PostgreSQL text cannot hold NUL (U+0000); psycopg2 refuses such a value before it reaches the server, which used
to surface as a 500. Declaring the constraint in the schema refuses it as 422 and documents it in /docs.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import StringConstraints

Text = Annotated[str, StringConstraints(pattern=r"^[^\x00]*$")]
"""Any string without NUL characters (不得包含 NUL 字符)."""
