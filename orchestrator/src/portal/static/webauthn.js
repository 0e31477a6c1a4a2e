// The portal's only script: the passkey ceremonies (WebAuthn needs the browser's API). Everything else
// works without it; without passkey support the boxes stay hidden and the code form remains.
(function () {
  'use strict';
  var supported = typeof window.PublicKeyCredential === 'function' && !!navigator.credentials;
  var meta = document.querySelector('meta[name="csrf-token"]');

  function toBytes(text) {
    var base64 = text.replace(/-/g, '+').replace(/_/g, '/');
    var raw = atob(base64 + '==='.slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }
  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var raw = '';
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function withIds(list) {
    return (list || []).map(function (item) {
      return Object.assign({}, item, { id: toBytes(item.id) });
    });
  }
  function creationOptions(json) {
    return Object.assign({}, json, {
      challenge: toBytes(json.challenge),
      user: Object.assign({}, json.user, { id: toBytes(json.user.id) }),
      excludeCredentials: withIds(json.excludeCredentials),
    });
  }
  function requestOptions(json) {
    return Object.assign({}, json, {
      challenge: toBytes(json.challenge),
      allowCredentials: withIds(json.allowCredentials),
    });
  }
  function credentialJson(credential) {
    if (typeof credential.toJSON === 'function') return credential.toJSON();
    var r = credential.response;
    var response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = typeof r.getTransports === 'function' ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      if (r.userHandle) response.userHandle = toText(r.userHandle);
    }
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: response,
      clientExtensionResults: credential.getClientExtensionResults(),
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
    };
  }
  function post(url, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': meta ? meta.content : '' },
      body: JSON.stringify(body),
    }).then(function (answer) {
      return answer
        .json()
        .catch(function () {
          return {};
        })
        .then(function (json) {
          if (!answer.ok) throw new Error(json.error || 'The server refused it (' + answer.status + ').');
          return json;
        });
    });
  }
  var ceremonies = {
    'sign-in': function (box) {
      return post('/webauthn/sign-in/options', {})
        .then(function (options) {
          return navigator.credentials.get({ publicKey: requestOptions(options) });
        })
        .then(function (credential) {
          return post('/webauthn/sign-in', {
            response: credentialJson(credential),
            next: box.getAttribute('data-next') || undefined,
          });
        });
    },
    register: function () {
      return post('/webauthn/register/options', {})
        .then(function (options) {
          return navigator.credentials.create({ publicKey: creationOptions(options) });
        })
        .then(function (credential) {
          return post('/webauthn/register', { response: credentialJson(credential) });
        });
    },
  };
  if (!supported) return;
  Array.prototype.forEach.call(document.querySelectorAll('[data-webauthn-off]'), function (note) {
    note.hidden = true;
  });
  Array.prototype.forEach.call(document.querySelectorAll('[data-webauthn]'), function (box) {
    var button = box.querySelector('[data-webauthn-start]');
    var error = box.querySelector('[data-webauthn-error]');
    var ceremony = ceremonies[box.getAttribute('data-webauthn')];
    if (!button || !ceremony) return;
    box.hidden = false;
    button.addEventListener('click', function () {
      button.disabled = true;
      if (error) error.hidden = true;
      ceremony(box)
        .then(function (result) {
          window.location.assign(result.redirect);
        })
        .catch(function (failure) {
          button.disabled = false;
          if (!error) return;
          error.textContent =
            failure && failure.name === 'NotAllowedError'
              ? 'The passkey request was cancelled or timed out. Try again.'
              : (failure && failure.message) || 'That did not work. Try again.';
          error.hidden = false;
        });
    });
  });
})();
