/* storefront forms: progressive enhancement for <form data-storefront-form="NAME">.
 *
 * Without this script every form still works: a plain POST, and the endpoint answers with a
 * redirect, a page listing the problems, or a "please confirm" page. With it:
 *  - the signed anti-spam token (_ts) is fetched from ACTION/token once the form is visible or
 *    first used (so the footer form on every page costs no request unless someone gets there);
 *  - the form is posted with fetch and Accept: application/json; errors appear next to their
 *    fields (aria-invalid, aria-describedby), form-level ones in #err-NAME-_form (role=alert);
 *  - on success the browser goes to the thank-you page;
 *  - when the endpoint does not answer (a host that serves only the static files says 404, 405
 *    or 501 to a POST; a proxy whose backend is down 502-504; or no network), the form says so:
 *    its #unavailable-NAME box (role=alert, rendered by the theme) offers the e-mail address and
 *    the phone number instead, and nothing is posted to a dead address. The next send tries the
 *    endpoint again, so a passing hiccup does not disable the form for good.
 * No library, no third-party request. Messages are set with textContent only.
 */
(function () {
  "use strict";
  if (!window.fetch || !window.FormData || !window.URLSearchParams) return;
  var HEADERS = { "Accept": "application/json" };

  function endpoint(form) { return form.getAttribute("action").replace(/\/+$/, ""); }
  function box(form, name) {
    return document.getElementById("err-" + form.getAttribute("data-storefront-form") + "-" + name);
  }
  function setToken(form, token) {
    var input = form.querySelector('input[name="_ts"]');
    if (input) input.value = token;
  }

  // No endpoint behind the address, or none reachable: an answer that is not the endpoint's JSON.
  function unanswered(response) {
    var type = response.headers.get("Content-Type") || "";
    return response.status === 404 || response.status === 405 || response.status >= 500 ||
      type.indexOf("application/json") < 0;
  }

  function unavailable(form, on) {
    var notice = document.getElementById("unavailable-" + form.getAttribute("data-storefront-form"));
    if (on) form.setAttribute("data-unavailable", ""); else form.removeAttribute("data-unavailable");
    if (notice) notice.hidden = !on;
    return notice;
  }

  function fetchToken(form) {
    if (!form._tokenRequest) {
      form._tokenRequest = fetch(endpoint(form) + "/token", { method: "POST", headers: HEADERS })
        .then(function (r) {
          if (unanswered(r)) { unavailable(form, true); return null; }
          unavailable(form, false);
          return r.ok ? r.json() : null; // no token: the endpoint asks to confirm
        })
        .then(function (data) { if (data && data.token) setToken(form, data.token); })
        .catch(function () { unavailable(form, true); });
    }
    return form._tokenRequest;
  }

  function giveUp(form) {
    busy(form, false);
    var notice = unavailable(form, true);
    if (notice) { notice.tabIndex = -1; notice.focus(); }
  }

  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll(".form-error"), function (p) {
      p.textContent = ""; p.hidden = true;
    });
    Array.prototype.forEach.call(form.querySelectorAll('[aria-invalid="true"]'), function (el) {
      el.removeAttribute("aria-invalid");
    });
  }

  function showErrors(form, data) {
    var first = null, general = (data.form_errors || []).slice(), errors = data.errors || {};
    Object.keys(errors).forEach(function (name) {
      var text = errors[name].join(" "), p = box(form, name), field = form.elements.namedItem(name);
      if (!p || !field || !field.setAttribute || field.type === "hidden") { general.push(text); return; }
      p.textContent = text; p.hidden = false;
      field.setAttribute("aria-invalid", "true");
      var ids = (field.getAttribute("aria-describedby") || "").split(/\s+/);
      if (ids.indexOf(p.id) < 0) field.setAttribute("aria-describedby", ids.concat(p.id).join(" ").trim());
      first = first || field;
    });
    var formBox = box(form, "_form");
    if (formBox && general.length) { formBox.textContent = general.join(" "); formBox.hidden = false; }
    if (first) first.focus();
  }

  function busy(form, on) {
    if (on) form.setAttribute("aria-busy", "true"); else form.removeAttribute("aria-busy");
    Array.prototype.forEach.call(form.querySelectorAll('[type="submit"]'), function (b) { b.disabled = on; });
  }

  function onSubmit(event) {
    var form = event.currentTarget;
    event.preventDefault();
    if (form.hasAttribute("aria-busy")) return;
    busy(form, true);
    if (form.hasAttribute("data-unavailable")) form._tokenRequest = null; // ask once more
    var token = form.querySelector('input[name="_ts"]');
    (token && token.value ? Promise.resolve() : fetchToken(form)).then(function () {
      if (form.hasAttribute("data-unavailable")) return null;
      return fetch(form.getAttribute("action"), {
        method: "POST", headers: HEADERS, body: new URLSearchParams(new FormData(form))
      });
    }).then(function (response) {
      if (!response || unanswered(response)) return null;
      return response.json();
    }).then(function (data) {
      if (!data) { giveUp(form); return; }
      unavailable(form, false);
      if (data.ok && /^(https?:\/\/|\/)/.test(data.redirect || "")) {
        window.location.assign(data.redirect);
        return;
      }
      if (data.token) setToken(form, data.token);
      clearErrors(form);
      showErrors(form, data);
      busy(form, false);
    }).catch(function () {
      giveUp(form); // the endpoint could not be reached: say so, keep what was typed
    });
  }

  function init() {
    var forms = document.querySelectorAll("form[data-storefront-form]");
    var observer = window.IntersectionObserver && new IntersectionObserver(function (entries) {
      entries.forEach(function (e) {
        if (e.isIntersecting) { observer.unobserve(e.target); fetchToken(e.target); }
      });
    });
    Array.prototype.forEach.call(forms, function (form) {
      form.addEventListener("submit", onSubmit);
      form.addEventListener("focusin", function () { fetchToken(form); }, { once: true });
      if (observer) observer.observe(form); else fetchToken(form);
    });
    // coming back from the thank-you page (back/forward cache): make the forms usable again
    window.addEventListener("pageshow", function () {
      Array.prototype.forEach.call(forms, function (form) { busy(form, false); });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
