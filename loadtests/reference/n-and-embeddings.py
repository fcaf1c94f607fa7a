# Prompt-phase cost of n choices (a fresh random 512-token prompt, max_tokens 1, n=1 against n=4) and the time of a
# /v1/embeddings batch of 64 short inputs, against a running ServeGate (or any OpenAI-compatible server for the second).
#   python3 loadtests/reference/n-and-embeddings.py http://127.0.0.1:8097 MODEL
import json, random, time, urllib.request, sys, statistics
url = sys.argv[1]; model = sys.argv[2]
def post(path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    t = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        data = json.loads(r.read())
    return time.perf_counter() - t, data
# n=1 vs n=4 on a 512-token prompt (fresh random tokens each time: no cache), max_tokens 1
rows = {1: [], 4: []}
for rep in range(4):
    for n in (1, 4):
        prompt = [1] + [random.randint(100, 30000) for _ in range(511)]
        wall, d = post("/v1/completions", {"model": model, "prompt": prompt, "max_tokens": 1, "n": n, "ignore_eos": True})
        u = d["usage"]
        rows[n].append((wall * 1000, u["servegate"]["time_to_first_token_ms"], u["servegate"]["compute_seconds"] * 1000, u["prompt_tokens"], u["prompt_tokens_details"]["cached_tokens"]))
for n in (1, 4):
    print(f"n={n}: wall ms median {statistics.median(r[0] for r in rows[n]):.0f}, ttft ms median {statistics.median(r[1] for r in rows[n]):.0f}, compute ms median {statistics.median(r[2] for r in rows[n]):.0f}, prompt_tokens {rows[n][0][3]}, cached {rows[n][0][4]}")
# embeddings: a batch of 64 short inputs
words = "alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho sigma tau".split()
times = []
for rep in range(6):
    inputs = [" ".join(random.choice(words) for _ in range(8)) for _ in range(64)]
    wall, d = post("/v1/embeddings", {"model": model, "input": inputs})
    times.append(wall)
    toks = d["usage"]["prompt_tokens"]
print(f"embeddings 64 inputs ({toks} tokens): wall ms {[round(t*1000) for t in times]}, median {statistics.median(times)*1000:.0f} ms -> {64/statistics.median(times):.0f} inputs/s, {toks/statistics.median(times):.0f} tokens/s")
