"""The API node's public endpoints (`/v1/...`): participant registration and epochs."""

from __future__ import annotations

from typing import Any

from inferctl.server import render
from inferctl.server.app import HttpError, Request, Response
from inferctl.server.writes import commit, read, require_object

# Keys of the registration body that a joining API node posts to a seed node.
REGISTRATION_KEYS = ("address", "url", "validator_key", "pub_key", "worker_key")


def get_participant(request: Request) -> Response:
    """Serve GET /v1/participants/{address}, which a joining node polls after its POST.

    200 with {id, url, participant} once the participant exists, else 404.
    """
    state, _head = read(request)
    address = request.params["address"]
    record = state.get("participants", {}).get(address)
    if record is None:
        raise HttpError(404, f"participant not found: {address}")
    return Response(200, {"id": address, "url": record.get("inference_url", ""),
                          "participant": render.participant_json(record)})


def post_participant(request: Request) -> Response:
    """Register a participant as a seed node's POST /v1/participants does.

    With `address` and `pub_key` the body becomes a MsgSubmitNewUnfundedParticipant
    and the response is 200 with no body. Otherwise it becomes a MsgSubmitNewParticipant
    whose creator is `address` (gonka signs it as the seed node, which registers the
    seed node itself), and the response is 200 {"id", "url"}.
    """
    fields = _registration_fields(require_object(request.json(), "participant body"))
    if fields["address"] and fields["pub_key"]:
        return _join_unfunded(request, fields)
    if not fields["address"]:
        raise HttpError(400, "participant body: address is required; inferctl "
                             "registers the participant at this address (gonka would "
                             "register the seed node's own address)")
    return _join(request, fields)


def _registration_fields(body: dict[str, Any]) -> dict[str, str]:
    fields = {}
    for key in REGISTRATION_KEYS:
        value = body.get(key, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise HttpError(400, f"participant body: {key} must be a JSON string, got "
                                 f"a JSON {render.json_type_name(value)}")
        fields[key] = value
    return fields


def _join_unfunded(request: Request, fields: dict[str, str]) -> Response:
    from inferctl.flow.participants import NEW_UNFUNDED_PARTICIPANT

    body = {"creator": request.config.participant or fields["address"], **fields}
    commit(request, [(NEW_UNFUNDED_PARTICIPANT, body)])
    return Response(200, empty=True)


def _join(request: Request, fields: dict[str, str]) -> Response:
    from inferctl.flow.participants import NEW_PARTICIPANT, check_not_joined

    body = {"creator": fields["address"], "url": fields["url"],
            "validator_key": fields["validator_key"], "worker_key": fields["worker_key"]}

    def build(state: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
        check_not_joined(state, fields["address"], replace=False)
        return [(NEW_PARTICIPANT, body)]

    commit(request, build)
    return Response(200, {"id": fields["address"], "url": fields["url"]})


def get_epoch_participants(request: Request) -> Response:
    """Serve /v1/epochs/{epoch}/participants: the epoch's ActiveParticipants."""
    from inferctl.server.epochview import active_participants_response

    state, _head = read(request)
    return Response(200, active_participants_response(state, request.params["epoch"]))
