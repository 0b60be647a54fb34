"""Minimal FastAPI + XGBoost scoring service: the seed stacks' serving shape,
used only as a benchmark baseline for Vigil's POST /predict.

Same job, same model file: validate a transaction, update a per-user
in-memory state, build the model's 37-feature vector (user count/sum/mean
from state, transaction features; the rest missing), predict with XGBoost,
return probability and decision. Run: VIGIL_MODEL=registry/v1/model.json
uvicorn app:app --port 8090
"""
import math
import os
import time
from datetime import datetime

import numpy as np
import xgboost as xgb
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel

FEATURES = 37
booster = xgb.Booster()
booster.load_model(os.environ.get("VIGIL_MODEL", "model.json"))
booster.set_param({"nthread": 1})
app = FastAPI()
users: dict = {}


class Merchant(BaseModel):
    id: str
    category: str
    name: str | None = None


class Location(BaseModel):
    country: str
    lat: float | None = None
    lon: float | None = None


class Transaction(BaseModel):
    transaction_id: str
    user_id: str
    amount: float
    currency: str
    merchant: Merchant
    timestamp: str
    location: Location
    device_id: str | None = None
    channel: str | None = None


@app.post("/predict")
def predict(tx: Transaction):
    start = time.perf_counter()
    if tx.amount < 0:
        raise HTTPException(422, "amount: must not be negative")
    ts = datetime.fromisoformat(tx.timestamp.replace("Z", "+00:00"))
    state = users.setdefault(tx.user_id, {"count": 0, "sum": 0.0, "last": None})
    row = np.full((1, FEATURES), np.nan, dtype=np.float32)
    row[0, 0] = tx.amount
    row[0, 1] = math.log1p(tx.amount)
    row[0, 2] = ts.hour
    row[0, 3] = 1.0 if ts.hour < 6 else 0.0
    row[0, 4] = 1.0 if ts.weekday() >= 5 else 0.0
    row[0, 11] = state["count"]
    if state["count"]:
        row[0, 15] = state["sum"] / state["count"]
        row[0, 18] = tx.amount / max(row[0, 15], 0.01)
    if state["last"] is not None:
        row[0, 19] = (ts - state["last"]).total_seconds()
    state["count"] += 1
    state["sum"] += tx.amount
    state["last"] = ts
    p = float(booster.inplace_predict(row)[0])
    decision = "decline" if p >= 0.9 else "review" if p >= 0.5 else "approve"
    return {"transaction_id": tx.transaction_id, "probability": p, "decision": decision,
            "latency_us": int((time.perf_counter() - start) * 1e6)}
