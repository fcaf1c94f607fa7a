# One measured run against an OpenAI-compatible server, for beyond-text.sh (ServeGate against llama-server):
#   python3 beyond-text.py URL MODEL SERVER MODE CONCURRENCY REQUESTS MAX_TOKENS SEED
# SERVER servegate|llama (how the schema is sent: response_format on ServeGate's /v1/completions, json_schema on
# llama-server's); MODE plain (ignore_eos, every request runs to MAX_TOKENS), constrained (the schema below, temperature
# 1; a request ends when its JSON is complete or at MAX_TOKENS) or embeddings (REQUESTS batches of 64 short inputs,
# CONCURRENCY unused). Prints one JSON line: generated tokens per second of wall time in a closed loop (or inputs/s).
import json, random, sys, threading, time, urllib.request

url, model, server, mode = sys.argv[1:5]
concurrency, requests, max_tokens, seed = map(int, sys.argv[5:9])
SCHEMA = {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "object", "properties": {
    "name": {"type": "string"}, "qty": {"type": "integer"},
    "tags": {"type": "array", "items": {"enum": ["new", "used", "rare"]}}}, "required": ["name", "qty", "tags"]}}},
    "required": ["items"]}
WORDS = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau".split()


def post(path, body):
    request = urllib.request.Request(url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=600) as response:
        return json.loads(response.read())


def completion(i, rng):
    body = {"model": model, "prompt": "Inventory: " + " ".join(rng.choice(WORDS) for _ in range(12)),
            "max_tokens": max_tokens, "temperature": 1.0, "seed": seed * 1000 + i}
    if mode == "plain":
        body["ignore_eos"] = True
    elif server == "servegate":
        body["response_format"] = {"type": "json_schema", "json_schema": {"name": "inventory", "schema": SCHEMA}}
    else:
        body["json_schema"] = SCHEMA
    return post("/v1/completions", body)["usage"]["completion_tokens"]


def embeddings(i, rng):
    inputs = [" ".join(rng.choice(WORDS) for _ in range(8)) for _ in range(64)]
    data = post("/v1/embeddings", {"model": model, "input": inputs})
    assert len(data["data"]) == 64
    return 64


work = embeddings if mode == "embeddings" else completion
rngs = [random.Random(seed * 7919 + i) for i in range(requests)]
lock, counter, total = threading.Lock(), [0], [0]


def worker():
    while True:
        with lock:
            i = counter[0]
            counter[0] += 1
        if i >= requests:
            return
        n = work(i, rngs[i])
        with lock:
            total[0] += n


start = time.perf_counter()
threads = [threading.Thread(target=worker) for _ in range(1 if mode == "embeddings" else concurrency)]
for t in threads:
    t.start()
for t in threads:
    t.join()
wall = time.perf_counter() - start
unit = "inputs" if mode == "embeddings" else "tokens"
print(json.dumps({"server": server, "mode": mode, unit: total[0], "wall_s": round(wall, 3), "per_second": round(total[0] / wall, 2)}))
