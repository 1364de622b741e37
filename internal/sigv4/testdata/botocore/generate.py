"""Sign sample requests with botocore, an implementation of SigV4 other than
Sluice's and the Go SDK's, and write each as a JSON fixture: the request as it
goes on the wire, the clock to verify it at, and botocore's canonical request
and string to sign. Run from this folder: python3 generate.py"""

import datetime
import json
from urllib.parse import urlsplit

import botocore
import botocore.auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

NOW = datetime.datetime(2025, 3, 14, 15, 9, 26, tzinfo=datetime.timezone.utc)
botocore.auth.get_current_datetime = lambda *a, **k: NOW.replace(tzinfo=None)

KEY = Credentials("AKIDSLUICEEXAMPLE01", "c2x1aWNlLXRlc3Qtc2VjcmV0LWtleS1leGFtcGxlMQ")
TEMP = Credentials("ASIASLUICEEXAMPLE02", "dGVtcG9yYXJ5LXNlY3JldC1rZXktZm9yLXRlc3RzMg", "FQoGZXIvYXdzEXAMPLE//session+token=")
JSON = {"Content-Type": "application/x-amz-json-1.1"}


def case(name, method, url, headers=None, body=b"", creds=KEY, service="codepipeline", region="us-east-1", presign=0):
    req = AWSRequest(method=method, url=url, headers=dict(headers or {}), data=body)
    if presign:
        signer = botocore.auth.SigV4QueryAuth(creds, service, region, expires=presign)
    else:
        signer = botocore.auth.SigV4Auth(creds, service, region)
    seen = {}
    canonical, to_sign = signer.canonical_request, signer.string_to_sign
    signer.canonical_request = lambda r: seen.setdefault("creq", canonical(r))
    signer.string_to_sign = lambda r, c: seen.setdefault("sts", to_sign(r, c))
    signer.add_auth(req)
    creq, sts = seen["creq"], seen["sts"]
    parts = urlsplit(req.url)
    target = parts.path or "/"
    if parts.query:
        target += "?" + parts.query
    wire = [["Host", parts.netloc]] + [[k, v] for k, v in req.headers.items()]
    if body:
        wire.append(["Content-Length", str(len(body))])
    fixture = {
        "name": name,
        "accessKeyId": creds.access_key,
        "secretAccessKey": creds.secret_key,
        "sessionToken": creds.token or "",
        "service": service,
        "region": region,
        "now": NOW.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "method": method,
        "target": target,
        "headers": wire,
        "body": body.decode(),
        "canonicalRequest": creq,
        "stringToSign": sts,
        "botocore": botocore.__version__,
    }
    with open(name + ".json", "w") as f:
        json.dump(fixture, f, indent=2, ensure_ascii=False)
        f.write("\n")


case("list-pipelines", "POST", "http://127.0.0.1:8080/",
     {**JSON, "X-Amz-Target": "CodePipeline_20150709.ListPipelines"}, b"{}")
case("start-execution-session-token", "POST", "https://codepipeline.us-east-1.amazonaws.com/",
     {**JSON, "X-Amz-Target": "CodePipeline_20150709.StartPipelineExecution"},
     b'{"name": "demo", "clientRequestToken": "t-1"}', creds=TEMP)
case("query-sorted-and-encoded", "GET",
     "http://localhost:8080/?b=2&a=1&a=0&space=hello%20world&tilde=~x&slash=a%2Fb&empty=&plus=1%2B1")
case("path-encoded", "GET", "http://localhost:8080/path%20with%20space/%C3%BCnicode/a%2Fb")
case("path-dot-segments", "GET", "http://localhost:8080/a/./b/../c//d/")
case("header-spaces", "POST", "http://localhost:8080/",
     {**JSON, "X-Amz-Target": "CodePipeline_20150709.GetPipeline", "X-Custom": "  two   spaces  here "},
     b'{"name":"demo"}')
case("unsigned-payload", "POST", "http://localhost:8080/",
     {**JSON, "X-Amz-Target": "CodePipeline_20150709.ListWebhooks", "X-Amz-Content-SHA256": "UNSIGNED-PAYLOAD"}, b"{}")
case("presigned", "GET", "http://localhost:8080/status?verbose=1", presign=300)
