"""Staff accounts of the console: creating them, checking a password, and the failed
sign-ins the rate limit counts (in the database, so every web worker sees the same)."""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, col, select
from werkzeug.security import check_password_hash, generate_password_hash

from store.models import LoginAttempt, StaffRole, StaffUser

LANGUAGES = ("es", "en", "gn")
MIN_PASSWORD_CHARS = 10
COMMON_PASSWORDS = frozenset(
    {
        "1234567890",
        "0123456789",
        "12345678910",
        "qwertyuiop",
        "password123",
        "contraseña1",
        "contrasena1",
        "administrador",
        "passwordpassword",
    }
)
# Verified when the login is unknown, so an unknown login costs as long as a wrong password.
_DUMMY_HASH = generate_password_hash("not a real password", method="scrypt")


class WeakPassword(ValueError):
    """A password refused before it is stored; `reason` says why (empty, short, common,
    login, repeated)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LoginTaken(ValueError):
    """Another account already uses that login."""


def normalize_login(login: str) -> str:
    return login.strip().lower()


def password_problem(password: str, login: str = "") -> str | None:
    """Why a password is too weak to keep, or None. Pure."""
    if not password.strip():
        return "empty"
    if len(password) < MIN_PASSWORD_CHARS:
        return "short"
    if len(set(password)) < 4:
        return "repeated"
    if password.lower() in COMMON_PASSWORDS:
        return "common"
    if login and normalize_login(login) in password.lower():
        return "login"
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def create_staff(
    session: Session,
    *,
    clinic_id: int,
    login: str,
    display_name: str,
    password: str,
    role: str = StaffRole.staff,
    language: str = "es",
    now: datetime,
) -> StaffUser:
    """A new account; WeakPassword or LoginTaken refuse it."""
    login = normalize_login(login)
    if not login or not display_name.strip():
        raise ValueError("login and name are required")
    if role not in set(StaffRole):
        raise ValueError(f"role must be one of {', '.join(StaffRole)}")
    if language not in LANGUAGES:
        raise ValueError(f"language must be one of {', '.join(LANGUAGES)}")
    problem = password_problem(password, login)
    if problem:
        raise WeakPassword(problem)
    if find_by_login(session, login) is not None:
        raise LoginTaken(login)
    user = StaffUser(
        clinic_id=clinic_id,
        login=login,
        display_name=display_name.strip(),
        role=role,
        password_hash=hash_password(password),
        language=language,
        created_at=now,
    )
    session.add(user)
    session.flush()
    return user


def set_password(session: Session, user: StaffUser, password: str) -> None:
    problem = password_problem(password, user.login)
    if problem:
        raise WeakPassword(problem)
    user.password_hash = hash_password(password)
    session.add(user)
    session.flush()


def find_by_login(session: Session, login: str) -> StaffUser | None:
    return session.exec(select(StaffUser).where(StaffUser.login == normalize_login(login))).first()


def check_credentials(session: Session, login: str, password: str) -> StaffUser | None:
    """The active account with this login and password, or None; as slow either way."""
    user = find_by_login(session, login)
    if user is None or not user.active:
        check_password_hash(_DUMMY_HASH, password)
        return None
    return user if check_password_hash(user.password_hash, password) else None


@dataclass(frozen=True)
class LoginLimit:
    """After `free` failed sign-ins of one login, the next try waits `first_wait` after
    the last failure, twice as long after each further one, never above `longest_wait`.
    Failures are forgotten after `forget_after` and by a good sign-in. Only the login
    guessed at waits: where the guesses come from does not count (behind a proxy every
    client may share one address)."""

    free: int = 5
    first_wait: timedelta = timedelta(minutes=1)
    longest_wait: timedelta = timedelta(minutes=15)
    forget_after: timedelta = timedelta(hours=24)

    def wait_after(self, failures: int) -> timedelta:
        """How long a login waits after its last failure, given how many it has. Pure."""
        if failures < self.free:
            return timedelta(0)
        doublings = min(failures - self.free, 30)  # already far above any cap
        return min(self.first_wait * 2**doublings, self.longest_wait)


def locked_until(session: Session, login: str, now: datetime, limit: LoginLimit) -> datetime | None:
    """When the login may try again, or None if it may now."""
    failures, last = session.exec(
        select(func.count(), func.max(LoginAttempt.at)).where(
            LoginAttempt.login == normalize_login(login)[:200],
            col(LoginAttempt.at) > now - limit.forget_after,
        )
    ).one()
    if not failures or last is None:
        return None
    until: datetime = last + limit.wait_after(failures)
    return until if until > now else None


def record_failure(session: Session, login: str, ip: str, now: datetime, limit: LoginLimit) -> None:
    """Count a failed sign-in (the address kept for the record only); failures older than
    `forget_after` are dropped on the way."""
    user = find_by_login(session, login)
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.at) <= now - limit.forget_after))
    session.add(
        LoginAttempt(
            clinic_id=user.clinic_id if user else None,
            login=normalize_login(login)[:200],
            ip=ip[:64],
            at=now,
        )
    )
    session.flush()


def signed_in(session: Session, user: StaffUser, now: datetime) -> None:
    """A good sign-in: noted on the account, and the login's earlier failures forgotten."""
    session.execute(delete(LoginAttempt).where(col(LoginAttempt.login) == user.login))
    user.last_login_at = now
    session.add(user)
    session.flush()


class LastAdmin(ValueError):
    """The change would leave the clinic without an active admin."""


def clinic_staff(session: Session, clinic_id: int) -> list[StaffUser]:
    """The clinic's accounts: active ones first, then by name."""
    return list(
        session.exec(
            select(StaffUser)
            .where(StaffUser.clinic_id == clinic_id)
            .order_by(col(StaffUser.active).desc(), func.lower(StaffUser.display_name))
        ).all()
    )


def update_account(
    session: Session, user: StaffUser, *, display_name: str, role: str, language: str, active: bool
) -> bool:
    """Change an account's name, role, language and whether it may sign in; whether
    anything changed. LastAdmin refuses to leave the clinic with no active admin."""
    if not display_name.strip():
        raise ValueError("name is required")
    if role not in set(StaffRole) or language not in LANGUAGES:
        raise ValueError("unknown role or language")
    stays_admin = role == StaffRole.admin and active
    if user.role == StaffRole.admin and user.active and not stays_admin:
        admins = session.exec(
            select(func.count()).where(
                StaffUser.clinic_id == user.clinic_id,
                StaffUser.role == StaffRole.admin,
                col(StaffUser.active),
                StaffUser.id != user.id,
            )
        ).one()
        if admins == 0:
            raise LastAdmin(user.login)
    wanted = (display_name.strip(), role, language, active)
    if (user.display_name, user.role, user.language, user.active) == wanted:
        return False
    user.display_name, user.role, user.language, user.active = wanted
    session.add(user)
    session.flush()
    return True


def password_stamp(user: StaffUser) -> str:
    """A short mark of the account's current password, kept in its sessions: a new
    password ends every session signed in with the old one."""
    return hashlib.sha256(user.password_hash.encode()).hexdigest()[:16]
