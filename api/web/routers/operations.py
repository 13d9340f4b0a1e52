"""Placeholder."""

from fastapi import APIRouter

router = APIRouter()
api_router = APIRouter()
