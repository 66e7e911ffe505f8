"""What a route declares it needs: the request's database session, the user, the operator role
and a posted CSRF token (FastAPI dependencies, named once for every router)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form
from sqlalchemy.orm import Session

from pulsehub.web.auth import Principal, require_operator, require_user
from pulsehub.web.rendering import session_scope

DB = Annotated[Session, Depends(session_scope)]
User = Annotated[Principal, Depends(require_user)]
Operator = Annotated[Principal, Depends(require_operator)]
Csrf = Annotated[str, Form()]
