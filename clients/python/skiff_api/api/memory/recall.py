from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.auto_mem_error_body import AutoMemErrorBody
from ...models.problem_details import ProblemDetails
from ...models.recall_response_200 import RecallResponse200
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    query: str | Unset = UNSET,
    queries: list[str] | Unset = UNSET,
    limit: int | Unset = UNSET,
    tags: list[str] | Unset = UNSET,
    tag_mode: str | Unset = UNSET,
    tag_match: str | Unset = UNSET,
    exclude_tags: list[str] | Unset = UNSET,
    time_query: str | Unset = UNSET,
    start: str | Unset = UNSET,
    end: str | Unset = UNSET,
    sort: str | Unset = UNSET,
    embedding: str | Unset = UNSET,
    expand_relations: bool | Unset = UNSET,
    relation_limit: int | Unset = UNSET,
    min_score: float | Unset = UNSET,
    state_mode: str | Unset = UNSET,
    context: str | Unset = UNSET,
    priority_ids: list[str] | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["query"] = query

    json_queries: list[str] | Unset = UNSET
    if not isinstance(queries, Unset):
        json_queries = queries

    params["queries"] = json_queries

    params["limit"] = limit

    json_tags: list[str] | Unset = UNSET
    if not isinstance(tags, Unset):
        json_tags = tags

    params["tags"] = json_tags

    params["tag_mode"] = tag_mode

    params["tag_match"] = tag_match

    json_exclude_tags: list[str] | Unset = UNSET
    if not isinstance(exclude_tags, Unset):
        json_exclude_tags = exclude_tags

    params["exclude_tags"] = json_exclude_tags

    params["time_query"] = time_query

    params["start"] = start

    params["end"] = end

    params["sort"] = sort

    params["embedding"] = embedding

    params["expand_relations"] = expand_relations

    params["relation_limit"] = relation_limit

    params["min_score"] = min_score

    params["state_mode"] = state_mode

    params["context"] = context

    json_priority_ids: list[str] | Unset = UNSET
    if not isinstance(priority_ids, Unset):
        json_priority_ids = priority_ids

    params["priority_ids"] = json_priority_ids

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/api/v1/memory/recall",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AutoMemErrorBody | ProblemDetails | RecallResponse200 | None:
    if response.status_code == 200:
        response_200 = RecallResponse200.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = AutoMemErrorBody.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = AutoMemErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = AutoMemErrorBody.from_dict(response.json())

        return response_403

    if response.status_code == 422:
        response_422 = ProblemDetails.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[AutoMemErrorBody | ProblemDetails | RecallResponse200]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    query: str | Unset = UNSET,
    queries: list[str] | Unset = UNSET,
    limit: int | Unset = UNSET,
    tags: list[str] | Unset = UNSET,
    tag_mode: str | Unset = UNSET,
    tag_match: str | Unset = UNSET,
    exclude_tags: list[str] | Unset = UNSET,
    time_query: str | Unset = UNSET,
    start: str | Unset = UNSET,
    end: str | Unset = UNSET,
    sort: str | Unset = UNSET,
    embedding: str | Unset = UNSET,
    expand_relations: bool | Unset = UNSET,
    relation_limit: int | Unset = UNSET,
    min_score: float | Unset = UNSET,
    state_mode: str | Unset = UNSET,
    context: str | Unset = UNSET,
    priority_ids: list[str] | Unset = UNSET,
) -> Response[AutoMemErrorBody | ProblemDetails | RecallResponse200]:
    """Hybrid recall (AutoMem's parameters).

    Args:
        query (str | Unset):
        queries (list[str] | Unset):
        limit (int | Unset):
        tags (list[str] | Unset):
        tag_mode (str | Unset):
        tag_match (str | Unset):
        exclude_tags (list[str] | Unset):
        time_query (str | Unset):
        start (str | Unset):
        end (str | Unset):
        sort (str | Unset):
        embedding (str | Unset):
        expand_relations (bool | Unset):
        relation_limit (int | Unset):
        min_score (float | Unset):
        state_mode (str | Unset):
        context (str | Unset):
        priority_ids (list[str] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AutoMemErrorBody | ProblemDetails | RecallResponse200]
    """

    kwargs = _get_kwargs(
        query=query,
        queries=queries,
        limit=limit,
        tags=tags,
        tag_mode=tag_mode,
        tag_match=tag_match,
        exclude_tags=exclude_tags,
        time_query=time_query,
        start=start,
        end=end,
        sort=sort,
        embedding=embedding,
        expand_relations=expand_relations,
        relation_limit=relation_limit,
        min_score=min_score,
        state_mode=state_mode,
        context=context,
        priority_ids=priority_ids,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    query: str | Unset = UNSET,
    queries: list[str] | Unset = UNSET,
    limit: int | Unset = UNSET,
    tags: list[str] | Unset = UNSET,
    tag_mode: str | Unset = UNSET,
    tag_match: str | Unset = UNSET,
    exclude_tags: list[str] | Unset = UNSET,
    time_query: str | Unset = UNSET,
    start: str | Unset = UNSET,
    end: str | Unset = UNSET,
    sort: str | Unset = UNSET,
    embedding: str | Unset = UNSET,
    expand_relations: bool | Unset = UNSET,
    relation_limit: int | Unset = UNSET,
    min_score: float | Unset = UNSET,
    state_mode: str | Unset = UNSET,
    context: str | Unset = UNSET,
    priority_ids: list[str] | Unset = UNSET,
) -> AutoMemErrorBody | ProblemDetails | RecallResponse200 | None:
    """Hybrid recall (AutoMem's parameters).

    Args:
        query (str | Unset):
        queries (list[str] | Unset):
        limit (int | Unset):
        tags (list[str] | Unset):
        tag_mode (str | Unset):
        tag_match (str | Unset):
        exclude_tags (list[str] | Unset):
        time_query (str | Unset):
        start (str | Unset):
        end (str | Unset):
        sort (str | Unset):
        embedding (str | Unset):
        expand_relations (bool | Unset):
        relation_limit (int | Unset):
        min_score (float | Unset):
        state_mode (str | Unset):
        context (str | Unset):
        priority_ids (list[str] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AutoMemErrorBody | ProblemDetails | RecallResponse200
    """

    return sync_detailed(
        client=client,
        query=query,
        queries=queries,
        limit=limit,
        tags=tags,
        tag_mode=tag_mode,
        tag_match=tag_match,
        exclude_tags=exclude_tags,
        time_query=time_query,
        start=start,
        end=end,
        sort=sort,
        embedding=embedding,
        expand_relations=expand_relations,
        relation_limit=relation_limit,
        min_score=min_score,
        state_mode=state_mode,
        context=context,
        priority_ids=priority_ids,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    query: str | Unset = UNSET,
    queries: list[str] | Unset = UNSET,
    limit: int | Unset = UNSET,
    tags: list[str] | Unset = UNSET,
    tag_mode: str | Unset = UNSET,
    tag_match: str | Unset = UNSET,
    exclude_tags: list[str] | Unset = UNSET,
    time_query: str | Unset = UNSET,
    start: str | Unset = UNSET,
    end: str | Unset = UNSET,
    sort: str | Unset = UNSET,
    embedding: str | Unset = UNSET,
    expand_relations: bool | Unset = UNSET,
    relation_limit: int | Unset = UNSET,
    min_score: float | Unset = UNSET,
    state_mode: str | Unset = UNSET,
    context: str | Unset = UNSET,
    priority_ids: list[str] | Unset = UNSET,
) -> Response[AutoMemErrorBody | ProblemDetails | RecallResponse200]:
    """Hybrid recall (AutoMem's parameters).

    Args:
        query (str | Unset):
        queries (list[str] | Unset):
        limit (int | Unset):
        tags (list[str] | Unset):
        tag_mode (str | Unset):
        tag_match (str | Unset):
        exclude_tags (list[str] | Unset):
        time_query (str | Unset):
        start (str | Unset):
        end (str | Unset):
        sort (str | Unset):
        embedding (str | Unset):
        expand_relations (bool | Unset):
        relation_limit (int | Unset):
        min_score (float | Unset):
        state_mode (str | Unset):
        context (str | Unset):
        priority_ids (list[str] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AutoMemErrorBody | ProblemDetails | RecallResponse200]
    """

    kwargs = _get_kwargs(
        query=query,
        queries=queries,
        limit=limit,
        tags=tags,
        tag_mode=tag_mode,
        tag_match=tag_match,
        exclude_tags=exclude_tags,
        time_query=time_query,
        start=start,
        end=end,
        sort=sort,
        embedding=embedding,
        expand_relations=expand_relations,
        relation_limit=relation_limit,
        min_score=min_score,
        state_mode=state_mode,
        context=context,
        priority_ids=priority_ids,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    query: str | Unset = UNSET,
    queries: list[str] | Unset = UNSET,
    limit: int | Unset = UNSET,
    tags: list[str] | Unset = UNSET,
    tag_mode: str | Unset = UNSET,
    tag_match: str | Unset = UNSET,
    exclude_tags: list[str] | Unset = UNSET,
    time_query: str | Unset = UNSET,
    start: str | Unset = UNSET,
    end: str | Unset = UNSET,
    sort: str | Unset = UNSET,
    embedding: str | Unset = UNSET,
    expand_relations: bool | Unset = UNSET,
    relation_limit: int | Unset = UNSET,
    min_score: float | Unset = UNSET,
    state_mode: str | Unset = UNSET,
    context: str | Unset = UNSET,
    priority_ids: list[str] | Unset = UNSET,
) -> AutoMemErrorBody | ProblemDetails | RecallResponse200 | None:
    """Hybrid recall (AutoMem's parameters).

    Args:
        query (str | Unset):
        queries (list[str] | Unset):
        limit (int | Unset):
        tags (list[str] | Unset):
        tag_mode (str | Unset):
        tag_match (str | Unset):
        exclude_tags (list[str] | Unset):
        time_query (str | Unset):
        start (str | Unset):
        end (str | Unset):
        sort (str | Unset):
        embedding (str | Unset):
        expand_relations (bool | Unset):
        relation_limit (int | Unset):
        min_score (float | Unset):
        state_mode (str | Unset):
        context (str | Unset):
        priority_ids (list[str] | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AutoMemErrorBody | ProblemDetails | RecallResponse200
    """

    return (
        await asyncio_detailed(
            client=client,
            query=query,
            queries=queries,
            limit=limit,
            tags=tags,
            tag_mode=tag_mode,
            tag_match=tag_match,
            exclude_tags=exclude_tags,
            time_query=time_query,
            start=start,
            end=end,
            sort=sort,
            embedding=embedding,
            expand_relations=expand_relations,
            relation_limit=relation_limit,
            min_score=min_score,
            state_mode=state_mode,
            context=context,
            priority_ids=priority_ids,
        )
    ).parsed
