vcl 4.1;
# Varnish in front of a cachewire app, for test/observability/varnish-purge.test.ts and as the
# README's example. Stock Varnish 7.x, no vmods beyond std: tag purges are bans on
# obj.http.Surrogate-Key (sent by cachewire with cdn: { surrogateKeys: true }), URL purges are
# PURGE requests. The test replaces __BACKEND_PORT__ before loading it.
import std;

backend app {
  .host = "127.0.0.1";
  .port = "__BACKEND_PORT__";
}

# Who may purge: cachewire's hosts. Keep it as narrow as your network allows.
acl purgers {
  "127.0.0.1";
  "::1";
}

sub vcl_recv {
  if (req.method == "BAN" || req.method == "PURGE") {
    if (client.ip !~ purgers) {
      return (synth(405, "Not allowed"));
    }
    if (req.method == "BAN") {
      if (!req.http.X-Cachewire-Ban) {
        return (synth(400, "X-Cachewire-Ban missing"));
      }
      # A lurker-friendly ban (it names only obj.*), so the ban lurker can retire it.
      ban("obj.http.Surrogate-Key ~ " + req.http.X-Cachewire-Ban);
      return (synth(200, "Banned"));
    }
    return (purge);
  }
}

sub vcl_backend_response {
  # RFC 9213: CDN-Cache-Control is for us and wins over Cache-Control.
  if (beresp.http.CDN-Cache-Control ~ "(^|[ ,])max-age=[0-9]+") {
    set beresp.ttl = std.duration(regsub(beresp.http.CDN-Cache-Control, "^.*max-age=([0-9]+).*$", "\1") + "s", 0s);
  }
}

sub vcl_deliver {
  # Tags and surrogate directives are for us, not for clients (tags may name users or tenants).
  unset resp.http.Surrogate-Key;
  unset resp.http.Surrogate-Control;
  if (obj.hits > 0) {
    set resp.http.X-Cache = "HIT";
  } else {
    set resp.http.X-Cache = "MISS";
  }
}
