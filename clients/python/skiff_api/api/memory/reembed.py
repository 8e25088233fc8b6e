from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.auto_mem_error_body import AutoMemErrorBody
from ...models.problem_details import ProblemDetails
from ...models.reembed_body import ReembedBody
from ...models.reembed_response_200 import ReembedResponse200
from ...models.reembed_response_202 import ReembedResponse202
from ...types import Response


def _get_kwargs(
    *,
    body: ReembedBody,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/memory/admin/reembed",
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> AutoMemErrorBody | ProblemDetails | ReembedResponse200 | ReembedResponse202 | None:
    if response.status_code == 200:
        response_200 = ReembedResponse200.from_dict(response.json())

        return response_200

    if response.status_code == 202:
        response_202 = ReembedResponse202.from_dict(response.json())

        return response_202

    if response.status_code == 400:
        response_400 = ProblemDetails.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = AutoMemErrorBody.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = AutoMemErrorBody.from_dict(response.json())

        return response_403

    if response.status_code == 413:
        response_413 = ProblemDetails.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = ProblemDetails.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = ProblemDetails.from_dict(response.json())

        return response_422

    if response.status_code == 423:
        response_423 = AutoMemErrorBody.from_dict(response.json())

        return response_423

    if response.status_code == 503:
        response_503 = AutoMemErrorBody.from_dict(response.json())

        return response_503

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[
    AutoMemErrorBody | ProblemDetails | ReembedResponse200 | ReembedResponse202
]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient,
    body: ReembedBody,
) -> Response[
    AutoMemErrorBody | ProblemDetails | ReembedResponse200 | ReembedResponse202
]:
    """Embed the org's memories again (`memory:admin`).

    Args:
        body (ReembedBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AutoMemErrorBody | ProblemDetails | ReembedResponse200 | ReembedResponse202]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient,
    body: ReembedBody,
) -> AutoMemErrorBody | ProblemDetails | ReembedResponse200 | ReembedResponse202 | None:
    """Embed the org's memories again (`memory:admin`).

    Args:
        body (ReembedBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AutoMemErrorBody | ProblemDetails | ReembedResponse200 | ReembedResponse202
    """

    return sync_detailed(
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient,
    body: ReembedBody,
) -> Response[
    AutoMemErrorBody | ProblemDetails | ReembedResponse200 | ReembedResponse202
]:
    """Embed the org's memories again (`memory:admin`).

    Args:
        body (ReembedBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[AutoMemErrorBody | ProblemDetails | ReembedResponse200 | ReembedResponse202]
    """

    kwargs = _get_kwargs(
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient,
    body: ReembedBody,
) -> AutoMemErrorBody | ProblemDetails | ReembedResponse200 | ReembedResponse202 | None:
    """Embed the org's memories again (`memory:admin`).

    Args:
        body (ReembedBody):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        AutoMemErrorBody | ProblemDetails | ReembedResponse200 | ReembedResponse202
    """

    return (
        await asyncio_detailed(
            client=client,
            body=body,
        )
    ).parsed
