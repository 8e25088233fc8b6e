from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.domain_view import DomainView
from ...models.problem_details import ProblemDetails
from ...types import Response


def _get_kwargs(
    app: str,
    host: str,
) -> dict[str, Any]:

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/api/v1/apps/{app}/domains/{host}/verify".format(
            app=quote(str(app), safe=""),
            host=quote(str(host), safe=""),
        ),
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> DomainView | ProblemDetails | None:
    if response.status_code == 200:
        response_200 = DomainView.from_dict(response.json())

        return response_200

    if response.status_code == 401:
        response_401 = ProblemDetails.from_dict(response.json())

        return response_401

    if response.status_code == 404:
        response_404 = ProblemDetails.from_dict(response.json())

        return response_404

    if response.status_code == 409:
        response_409 = ProblemDetails.from_dict(response.json())

        return response_409

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[DomainView | ProblemDetails]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    app: str,
    host: str,
    *,
    client: AuthenticatedClient,
) -> Response[DomainView | ProblemDetails]:
    """Check the claim's TXT record now and activate it (`app_admin`).

    Args:
        app (str):
        host (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DomainView | ProblemDetails]
    """

    kwargs = _get_kwargs(
        app=app,
        host=host,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    app: str,
    host: str,
    *,
    client: AuthenticatedClient,
) -> DomainView | ProblemDetails | None:
    """Check the claim's TXT record now and activate it (`app_admin`).

    Args:
        app (str):
        host (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DomainView | ProblemDetails
    """

    return sync_detailed(
        app=app,
        host=host,
        client=client,
    ).parsed


async def asyncio_detailed(
    app: str,
    host: str,
    *,
    client: AuthenticatedClient,
) -> Response[DomainView | ProblemDetails]:
    """Check the claim's TXT record now and activate it (`app_admin`).

    Args:
        app (str):
        host (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[DomainView | ProblemDetails]
    """

    kwargs = _get_kwargs(
        app=app,
        host=host,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    app: str,
    host: str,
    *,
    client: AuthenticatedClient,
) -> DomainView | ProblemDetails | None:
    """Check the claim's TXT record now and activate it (`app_admin`).

    Args:
        app (str):
        host (str):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        DomainView | ProblemDetails
    """

    return (
        await asyncio_detailed(
            app=app,
            host=host,
            client=client,
        )
    ).parsed
