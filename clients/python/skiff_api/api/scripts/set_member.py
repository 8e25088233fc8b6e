from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.member_view import MemberView
from ...models.problem_details import ProblemDetails
from ...models.set_member import SetMember
from ...types import Response


def _get_kwargs(
    app: str,
    user_id: str,
    *,
    body: SetMember,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}

    _kwargs: dict[str, Any] = {
        "method": "put",
        "url": "/api/v1/apps/{app}/members/{user_id}".format(
            app=quote(str(app), safe=""),
            user_id=quote(str(user_id), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> MemberView | ProblemDetails | None:
    if response.status_code == 200:
        response_200 = MemberView.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = ProblemDetails.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = ProblemDetails.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = ProblemDetails.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = ProblemDetails.from_dict(response.json())

        return response_404

    if response.status_code == 413:
        response_413 = ProblemDetails.from_dict(response.json())

        return response_413

    if response.status_code == 415:
        response_415 = ProblemDetails.from_dict(response.json())

        return response_415

    if response.status_code == 422:
        response_422 = ProblemDetails.from_dict(response.json())

        return response_422

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[MemberView | ProblemDetails]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    app: str,
    user_id: str,
    *,
    client: AuthenticatedClient,
    body: SetMember,
) -> Response[MemberView | ProblemDetails]:
    """Grant an org member a role in the app (`app_admin`).

    Args:
        app (str):
        user_id (str):
        body (SetMember):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[MemberView | ProblemDetails]
    """

    kwargs = _get_kwargs(
        app=app,
        user_id=user_id,
        body=body,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    app: str,
    user_id: str,
    *,
    client: AuthenticatedClient,
    body: SetMember,
) -> MemberView | ProblemDetails | None:
    """Grant an org member a role in the app (`app_admin`).

    Args:
        app (str):
        user_id (str):
        body (SetMember):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        MemberView | ProblemDetails
    """

    return sync_detailed(
        app=app,
        user_id=user_id,
        client=client,
        body=body,
    ).parsed


async def asyncio_detailed(
    app: str,
    user_id: str,
    *,
    client: AuthenticatedClient,
    body: SetMember,
) -> Response[MemberView | ProblemDetails]:
    """Grant an org member a role in the app (`app_admin`).

    Args:
        app (str):
        user_id (str):
        body (SetMember):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[MemberView | ProblemDetails]
    """

    kwargs = _get_kwargs(
        app=app,
        user_id=user_id,
        body=body,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    app: str,
    user_id: str,
    *,
    client: AuthenticatedClient,
    body: SetMember,
) -> MemberView | ProblemDetails | None:
    """Grant an org member a role in the app (`app_admin`).

    Args:
        app (str):
        user_id (str):
        body (SetMember):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        MemberView | ProblemDetails
    """

    return (
        await asyncio_detailed(
            app=app,
            user_id=user_id,
            client=client,
            body=body,
        )
    ).parsed
