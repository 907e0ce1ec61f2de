"""Access tokens for the Twilio Voice JavaScript SDK: an agent's browser takes calls with one."""

from __future__ import annotations

from twilio.jwt.access_token import AccessToken
from twilio.jwt.access_token.grants import VoiceGrant

# Long enough for a shift's stretch between refreshes, short enough that a leaked token soon dies.
TOKEN_SECONDS = 3600


def browser_phone_token(account_sid: str, key_sid: str, key_secret: str, identity: str) -> str:
    """A signed JWT that lets `identity` receive calls in the browser (<Client>identity</Client>)."""
    token = AccessToken(account_sid, key_sid, key_secret, identity=identity, ttl=TOKEN_SECONDS)
    # Incoming only: agents answer the calls the line rings them with; they place none of their own.
    token.add_grant(VoiceGrant(incoming_allow=True))
    jwt = token.to_jwt()
    return jwt if isinstance(jwt, str) else jwt.decode()
