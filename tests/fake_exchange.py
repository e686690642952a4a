"""A minimal local fake of Binance's public spot API (``exchangeInfo`` and the 24 h
ticker) for :class:`defisim.prices.feeds.ExchangeFeed` tests: ccxt's ``binance`` is
pointed at it through ``urls["api"]``, so nothing leaves the machine.

``FakeExchange.price`` is the ticker's last price; ``mode`` is ``"ok"``, ``"500"``
(an HTTP 500 with an error page) or ``"slow"`` (the answer waits ``delay_s``).
"""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

EXCHANGE_INFO = {
    "timezone": "UTC", "serverTime": 0, "rateLimits": [], "exchangeFilters": [],
    "symbols": [{
        "symbol": "BTCUSDT", "status": "TRADING", "baseAsset": "BTC", "baseAssetPrecision": 8,
        "quoteAsset": "USDT", "quotePrecision": 8, "quoteAssetPrecision": 8,
        "orderTypes": ["LIMIT", "MARKET"], "icebergAllowed": True, "ocoAllowed": True,
        "isSpotTradingAllowed": True, "isMarginTradingAllowed": False,
        "permissions": ["SPOT"], "permissionSets": [["SPOT"]],
        "filters": [
            {"filterType": "PRICE_FILTER", "minPrice": "0.01", "maxPrice": "1000000.00",
             "tickSize": "0.01"},
            {"filterType": "LOT_SIZE", "minQty": "0.00001", "maxQty": "9000.0",
             "stepSize": "0.00001"},
        ],
    }],
}


class FakeExchange:
    """The fake server on ``127.0.0.1`` (a free port) in a daemon thread."""

    def __init__(self, price: float = 65_000.0) -> None:
        self.price = price
        self.mode = "ok"
        self.delay_s = 2.0
        self.tickers = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def do_GET(self) -> None:
                url = urlparse(self.path)
                if url.path.endswith("/exchangeInfo"):
                    return self._json(200, EXCHANGE_INFO)
                if url.path.endswith("/ticker/24hr"):
                    fake.tickers += 1
                    if fake.mode == "500":
                        return self._json(500, {"msg": "internal error"}, raw=b"<html>500</html>")
                    if fake.mode == "slow":
                        time.sleep(fake.delay_s)
                    sym = parse_qs(url.query).get("symbol", ["BTCUSDT"])[0]
                    p = f"{fake.price:.2f}"
                    return self._json(200, {
                        "symbol": sym, "lastPrice": p, "openPrice": p, "highPrice": p,
                        "lowPrice": p, "bidPrice": p, "askPrice": p, "volume": "1.0",
                        "quoteVolume": p, "openTime": 0, "closeTime": int(time.time() * 1000),
                        "count": 1, "priceChange": "0", "priceChangePercent": "0",
                        "weightedAvgPrice": p, "prevClosePrice": p})
                return self._json(404, {"msg": f"no route {url.path}"})

            def _json(self, status: int, obj, raw: bytes | None = None) -> None:
                body = raw if raw is not None else json.dumps(obj).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:  # the client gave up (a timeout test)
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def exchange(self, timeout_s: float = 5.0):
        """A ccxt ``binance`` whose every API points at this fake (spot markets only)."""
        import ccxt

        ex = ccxt.binance({"enableRateLimit": False, "timeout": int(timeout_s * 1000),
                           "options": {"fetchMarkets": {"types": ["spot"]}}})
        ex.urls["api"] = {k: self.url + "/api/v3" for k in ex.urls["api"]}
        return ex

    def __enter__(self) -> FakeExchange:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
