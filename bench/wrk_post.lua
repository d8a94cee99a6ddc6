-- wrk script: POST /v1/exports with the JSON body from $WRK_BODY (bench/run.sh sets it).
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY") or '{"dataset": "narrow", "format": "csv"}'
wrk.headers["Content-Type"] = "application/json"
