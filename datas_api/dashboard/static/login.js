// The login form posts JSON to the API; the answer sets the HttpOnly session cookie.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("login");
  var message = document.getElementById("login-message");
  function say(text) { message.textContent = text; message.hidden = false; }
  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    var username = form.elements.username.value.trim();
    var password = form.elements.password.value;
    if (!username || !password) { say("Enter your user name and password."); return; }
    var button = form.querySelector("button");
    button.disabled = true;
    try {
      var res = await fetch("/api/v1/auth/login", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json" },
        body: JSON.stringify({ username: username, password: password }),
      });
      if (res.ok) { location.assign(form.dataset.next || "/dashboard/network"); return; }
      if (res.status === 429) {
        var wait = Number(res.headers.get("Retry-After")) || 60;
        var minutes = Math.ceil(wait / 60);
        say("Too many failed logins. Try again in " + (wait < 90 ? wait + " seconds." : minutes + " minutes."));
      } else if (res.status === 401 || res.status === 422) {
        say("Wrong user name or password.");  // never which of the two
      } else {
        say("The server could not log you in (" + res.status + "). Try again shortly.");
      }
    } catch (e) {
      say("The server cannot be reached. Check your connection and try again.");
    } finally {
      button.disabled = false;
    }
  });
});
