"""Microsoft Teams (Bot Framework), at /webhooks/botframework/webhook, switched on by BOTFRAMEWORK_* variables.

Replies go to the `serviceUrl` of the parent's own message, as in Rasa, with
the bot's bearer token. So, unlike Rasa, that URL must be the one Bot Framework
signed into the request's token (its `serviceurl` claim): otherwise anyone with
any valid token for this bot could have it send its bearer token to a server of
their choosing. The token's issuer is checked too, and its algorithm pinned.
Only the token endpoint and the signing keys' address are configurable.
"""

from __future__ import annotations

import datetime
import logging
from typing import Any, ClassVar, Dict

import jwt
import requests
from jwt.algorithms import RSAAlgorithm
from rasa.core.channels.botframework import (
    BEARER_REGEX,
    MICROSOFT_OAUTH2_PATH,
    MICROSOFT_OAUTH2_URL,
    MICROSOFT_OPEN_ID_URI,
    BotFramework,
    BotFrameworkInput,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from connectors.env import ChannelEnv, ConfiguredFromEnv
from connectors.guard import guarded
from connectors.option_replies import OptionReplies
from connectors.plain_text import OnNewMessage, PlainReply, PlainTextOutput, replying_with

logger = logging.getLogger(__name__)

TEAMS_ENV = ChannelEnv(
    "Microsoft Bot Framework (Teams)",
    required=("BOTFRAMEWORK_APP_ID", "BOTFRAMEWORK_APP_PASSWORD"),
    optional={
        # A single-tenant bot's token comes from https://login.microsoftonline.com/<tenant-id>/oauth2/v2.0/token.
        "BOTFRAMEWORK_LOGIN_URL": f"{MICROSOFT_OAUTH2_URL}/{MICROSOFT_OAUTH2_PATH}",
        # Where the keys that sign Bot Framework's requests are listed (another one in national clouds).
        "BOTFRAMEWORK_OPENID_URL": MICROSOFT_OPEN_ID_URI,
    },
)
TOKEN_SCOPE = "https://api.botframework.com/.default"
# Who issues the tokens on Bot Framework's requests; BOTFRAMEWORK_OPENID_URL's document may name
# another (a national cloud's), which is then used instead.
BOTFRAMEWORK_ISSUER = "https://api.botframework.com"
OTHER_SERVICE_URL = "The activity's serviceUrl is not the one its token was issued for (the serviceurl claim)."
# Fetch a new token this long before the old one expires, so no reply is sent with an expired one.
TOKEN_MARGIN = datetime.timedelta(minutes=5)
TIMEOUT = 10  # seconds; Rasa's requests have none, so a hung login would hang the reply forever


def suggested_actions(reply: PlainReply) -> Dict[str, Any]:
    """Teams' quick replies. Each posts its title, shown in the chat as the parent's answer;
    OptionReplies turns that title back into the option's payload."""
    return {"actions": [{"type": "imBack", "title": o.title, "value": o.title} for o in reply.options]}


class TeamsOutput(PlainTextOutput, BotFramework):
    """Each reply as one Bot Framework activity: plain text, options as suggested actions."""

    token_expiration_date: ClassVar[datetime.datetime] = datetime.datetime.min
    headers: ClassVar[Dict[str, Any] | None] = None

    def __init__(self, original: BotFramework, login_url: str) -> None:
        """Take over the output Rasa built from the incoming activity (its conversation and service URL)."""
        service_url = original.global_uri.removesuffix("v3/")
        super().__init__(original.app_id, original.app_password, original.conversation, original.bot, service_url)
        self.login_url = login_url

    async def _get_headers(self) -> Dict[str, Any] | None:
        """Rasa's token cache, asking `login_url` instead of the multi-tenant endpoint it hard-codes."""
        if TeamsOutput.token_expiration_date > datetime.datetime.now():
            return TeamsOutput.headers
        grant = {
            "client_id": self.app_id,
            "client_secret": self.app_password,
            "grant_type": "client_credentials",
            "scope": TOKEN_SCOPE,
        }
        token_response = requests.post(self.login_url, data=grant, timeout=TIMEOUT)
        if not token_response.ok:
            logger.error("Bot Framework refused a token (HTTP %s): check BOTFRAMEWORK_*.", token_response.status_code)
            return None
        token = token_response.json()
        lifetime = datetime.timedelta(seconds=int(token["expires_in"]))
        TeamsOutput.token_expiration_date = datetime.datetime.now() + lifetime - TOKEN_MARGIN
        TeamsOutput.headers = {"content-type": "application/json", "Authorization": f"Bearer {token['access_token']}"}
        return TeamsOutput.headers

    async def send_reply(self, recipient_id: str, reply: PlainReply) -> None:
        activity: Dict[str, Any] = {"text": reply.text, "textFormat": "plain"}
        if reply.options:
            activity["suggestedActions"] = suggested_actions(reply)
        await self.send(self.prepare_message(recipient_id, activity))


class TeamsChannel(ConfiguredFromEnv, BotFrameworkInput):
    """Rasa's Bot Framework input, configured from the environment, replying in plain text.

    Its requests are refused unless their token is for this bot, from Bot Framework, and for the
    activity's own serviceUrl (see the module docstring).
    """

    settings = TEAMS_ENV

    @classmethod
    def from_settings(cls, env: Dict[str, str]) -> TeamsChannel:
        return cls(
            env["BOTFRAMEWORK_APP_ID"],
            env["BOTFRAMEWORK_APP_PASSWORD"],
            login_url=env["BOTFRAMEWORK_LOGIN_URL"],
            openid_url=env["BOTFRAMEWORK_OPENID_URL"],
        )

    def __init__(self, app_id: str, app_password: str, login_url: str, openid_url: str) -> None:
        # Set before Rasa's __init__, which fetches the signing keys.
        self.login_url = login_url
        self.openid_url = openid_url
        self.issuer = BOTFRAMEWORK_ISSUER
        self.option_replies = OptionReplies()
        super().__init__(app_id, app_password)

    def _update_cached_jwk_keys(self) -> None:
        """Rasa's key refresh, from `openid_url` (whose document also names the tokens' issuer), not fatal.

        Rasa lets the error escape, which at start-up stops the whole server
        (every other channel too). Here the failure is logged, requests are
        refused with 401 (Bot Framework retries them), and the keys are fetched
        again on the next request.
        """
        try:
            config_response = requests.get(self.openid_url, timeout=TIMEOUT)
            config_response.raise_for_status()
            config = config_response.json()
            keys = requests.get(config["jwks_uri"], timeout=TIMEOUT)
            keys.raise_for_status()
            self.jwt_keys = {key["kid"]: key for key in keys.json()["keys"]}
            self.issuer = config.get("issuer") or BOTFRAMEWORK_ISSUER
        except (requests.RequestException, KeyError, TypeError, ValueError) as error:
            logger.error("Could not fetch Bot Framework's signing keys from BOTFRAMEWORK_OPENID_URL: %s", error)
            return
        self.jwt_update_time = datetime.datetime.now()

    def _validate_jwt_token(self, jwt_token: str) -> Dict[str, Any]:
        """Rasa's check (signature, audience, expiry), plus the issuer, with RS256 pinned; returns the claims.

        Rasa takes the algorithm from the token's own header; Bot Framework signs with RS256 only.
        """
        key_id = jwt.get_unverified_header(jwt_token).get("kid")
        if key_id not in self.jwt_keys:
            raise jwt.InvalidKeyError(f"No Bot Framework signing key with ID {key_id}.")
        return jwt.decode(
            jwt_token,
            key=RSAAlgorithm.from_jwk(self.jwt_keys[key_id]),
            algorithms=["RS256"],
            audience=self.app_id,
            issuer=self.issuer,
            options={"require": ["exp", "aud", "iss"]},
        )

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        guard = guarded(on_new_message, self.name())
        plain = replying_with(guard, lambda original: TeamsOutput(original, self.login_url))
        blueprint = self.option_replies.attach(super().blueprint(self.option_replies.wrap(plain, self.name())))

        @blueprint.middleware("request")
        async def only_for_the_tokens_service_url(request: Request) -> HTTPResponse | None:
            if request.method != "POST":
                return None
            header = request.headers.get("Authorization")
            # Rasa's own checks, which refresh the keys and end in our _validate_jwt_token: 401 if they fail.
            # Rasa's route then runs them again, which costs one signature check.
            refused = self._validate_auth(header)
            if refused is not None:
                return refused
            (token,) = BEARER_REGEX.match(header).groups()
            claims = jwt.decode(token, options={"verify_signature": False})  # verified just above
            activity = request.json if isinstance(request.json, dict) else {}
            if not claims.get("serviceurl") or claims["serviceurl"] != activity.get("serviceUrl"):
                logger.warning("Refused a Bot Framework activity whose serviceUrl its token was not issued for.")
                return response.json({"error": OTHER_SERVICE_URL}, status=403)
            return None

        return blueprint
