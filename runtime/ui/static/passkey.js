// Passkey ceremonies of the provider's pages (WebAuthn Level 3). A form
// with data-passkey="get" or "create" carries the options the provider
// made for this page in data-passkey-options (JSON, binary values in
// base64url); on submit this asks the browser for the passkey, puts the
// answer (JSON) in the form's credential field and posts the form. No
// other script runs on the pages, and this one talks to no server itself.
(function () {
  "use strict";

  function decode(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) b64 += "=";
    var bin = atob(b64), out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
    return out.buffer;
  }

  function encode(buf) {
    var bytes = new Uint8Array(buf), bin = "";
    for (var i = 0; i < bytes.length; i++) bin += String.fromCharCode(bytes[i]);
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIDs(list) {
    return (list || []).map(function (c) {
      return { type: c.type, id: decode(c.id), transports: c.transports };
    });
  }

  function requestOptions(o) {
    var pk = o.publicKey;
    pk.challenge = decode(pk.challenge);
    if (pk.allowCredentials) pk.allowCredentials = withIDs(pk.allowCredentials);
    return pk;
  }

  function creationOptions(o) {
    var pk = o.publicKey;
    pk.challenge = decode(pk.challenge);
    pk.user.id = decode(pk.user.id);
    if (pk.excludeCredentials) pk.excludeCredentials = withIDs(pk.excludeCredentials);
    return pk;
  }

  // asJSON is the credential's JSON form (WebAuthn §5.1.8 toJSON), made by
  // hand in browsers that lack it.
  function asJSON(cred) {
    if (typeof cred.toJSON === "function") return cred.toJSON();
    var r = cred.response, response = { clientDataJSON: encode(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = encode(r.attestationObject);
      if (typeof r.getTransports === "function") response.transports = r.getTransports();
    } else {
      response.authenticatorData = encode(r.authenticatorData);
      response.signature = encode(r.signature);
      if (r.userHandle) response.userHandle = encode(r.userHandle);
    }
    return {
      id: cred.id, rawId: encode(cred.rawId), type: cred.type, response: response,
      authenticatorAttachment: cred.authenticatorAttachment || undefined,
      clientExtensionResults: cred.getClientExtensionResults()
    };
  }

  function show(form, selector) {
    var el = form.querySelector(selector);
    if (el) el.hidden = false;
  }

  var forms = document.querySelectorAll("form[data-passkey]");
  for (var i = 0; i < forms.length; i++) {
    (function (form) {
      if (!window.PublicKeyCredential || !navigator.credentials) {
        show(form, ".passkey-unsupported");
        var b = form.querySelector("button");
        if (b) b.disabled = true;
        return;
      }
      form.addEventListener("submit", function (ev) {
        if (form.dataset.answered) return;
        ev.preventDefault();
        var opts = JSON.parse(form.dataset.passkeyOptions);
        var ask = form.dataset.passkey === "create"
          ? navigator.credentials.create({ publicKey: creationOptions(opts) })
          : navigator.credentials.get({ publicKey: requestOptions(opts) });
        ask.then(function (cred) {
          form.elements.credential.value = JSON.stringify(asJSON(cred));
          form.dataset.answered = "1";
          form.submit();
        }, function () {
          // Cancelled, timed out, or no passkey here: the page says so,
          // and the button tries again (nothing was posted).
          show(form, ".passkey-failed");
        });
      });
    })(forms[i]);
  }
})();
