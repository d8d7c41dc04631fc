"""HTTP routes of the screening service."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1")
