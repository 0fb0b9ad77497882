"""The route table of `inferctl serve`: gonka's admin, public and chain REST paths."""

from __future__ import annotations

from inferctl.server import admin, chain, public, queries
from inferctl.server.app import Route, route

P = chain.PREFIX


def build_routes() -> list[Route]:
    """Return every route; `{name}` matches one path segment."""
    return [
        route("POST", "/admin/v1/models", admin.post_model),
        route("GET", "/admin/v1/models/unique", admin.get_participant_models),
        route("POST", "/admin/v1/nodes", admin.post_node),
        route("POST", "/admin/v1/nodes/batch", admin.post_nodes_batch),
        route("GET", "/admin/v1/nodes", admin.get_nodes),
        route("PUT", "/admin/v1/nodes/{id}", admin.put_node),
        route("DELETE", "/admin/v1/nodes/{id}", admin.delete_node),
        route("POST", "/admin/v1/nodes/{id}/enable", admin.enable_node),
        route("POST", "/admin/v1/nodes/{id}/disable", admin.disable_node),
        route("POST", "/v1/participants", public.post_participant),
        route("GET", "/v1/participants/{address}", public.get_participant),
        route("GET", "/v1/epochs/{epoch}/participants", public.get_epoch_participants),
        *chain_routes(),
    ]


def chain_routes() -> list[Route]:
    """Return the chain query routes; their errors carry gRPC-gateway fields too."""
    table = [
        ("/params", chain.get_params),
        ("/models_all", chain.get_models_all),
        ("/participant", chain.get_participant_all),
        ("/participant/{index}", chain.get_participant),
        ("/hardware_nodes_all", chain.get_hardware_nodes_all),
        ("/hardware_nodes/{participant}", chain.get_hardware_nodes),
        ("/get_current_epoch", queries.get_current_epoch),
        ("/current_epoch_group_data", queries.get_current_epoch_group_data),
        ("/epoch_group_data/{epoch_index}", queries.get_epoch_group_data),
        ("/get_random_executor", queries.get_random_executor),
    ]
    return [route("GET", P + path, handler, grpc_errors=True) for path, handler in table]
