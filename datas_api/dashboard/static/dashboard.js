// DATAS dashboard: refresh the page's live part, log out, and call the API as the viewer.
// Never builds HTML from strings: server-rendered (escaped) fragments are parsed by DOMParser,
// everything else is made with createElement/textContent.
"use strict";
window.DATAS = window.DATAS || {};

DATAS.loginUrl = function (expired) {
  var next = encodeURIComponent(location.pathname + location.search);
  return "/dashboard/login?next=" + next + (expired ? "&expired=1" : "");
};

// fetch() as the logged-in person: the session cookie goes along and the browser adds the
// Origin header the API requires on cookie-authenticated writes.
DATAS.api = async function (method, url, body) {
  var options = { method: method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  var res = await fetch(url, options);
  var data = null;
  try { data = await res.json(); } catch (e) { data = null; }
  if (res.status === 401) { location.assign(DATAS.loginUrl(true)); throw new Error("session expired"); }
  if (res.status === 403) { location.assign("/dashboard/forbidden"); throw new Error("not allowed"); }
  if (!res.ok) {
    var err = new Error((data && data.message) || ("the server answered " + res.status));
    err.status = res.status;
    throw err;
  }
  return data;
};

DATAS.refresh = async function () {
  var live = document.getElementById("live");
  if (!live || !live.dataset.refresh) return;
  var url = location.pathname + location.search + (location.search ? "&" : "?") + "fragment=1";
  var res;
  try {
    res = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
  } catch (e) {
    return; // offline for a moment: keep what is shown, try again next time
  }
  if (res.status === 401) { location.assign(DATAS.loginUrl(true)); return; }
  if (!res.ok) return;
  var doc = new DOMParser().parseFromString(await res.text(), "text/html");
  live.replaceChildren.apply(live, Array.from(doc.body.childNodes));
  var stamp = document.getElementById("updated");
  if (stamp) stamp.textContent = "Updated " + new Date().toISOString().slice(0, 19).replace("T", " ") + " UTC";
  document.dispatchEvent(new CustomEvent("datas:refreshed"));
};

document.addEventListener("DOMContentLoaded", function () {
  var live = document.getElementById("live");
  var seconds = live && Number(live.dataset.refresh);
  if (seconds > 0) {
    setInterval(function () { if (!document.hidden) DATAS.refresh(); }, seconds * 1000);
  }
  var logout = document.getElementById("logout");
  if (logout) {
    logout.addEventListener("click", async function () {
      try { await fetch("/api/v1/auth/logout", { method: "POST", credentials: "same-origin" }); } catch (e) { /* gone anyway */ }
      location.assign("/dashboard/login?logged_out=1");
    });
  }
});
