// Admin forms: each calls the existing API endpoint as the logged-in admin.
"use strict";
(function () {
  function value(input) {
    var raw = input.value.trim();
    if (raw === "") return undefined;
    switch (input.dataset.kind) {
      case "number": return Number(raw);
      case "list": return raw.split(",").map(function (s) { return s.trim(); }).filter(Boolean);
      case "ids": return raw.split(/[\s,]+/).filter(Boolean).map(Number);
      case "time": return raw.length === 16 ? raw + ":00Z" : raw + "Z";  // the inputs are UTC
      default: return raw;
    }
  }

  function body(form, skip) {
    var out = {};
    Array.from(form.querySelectorAll("input[name], select[name]")).forEach(function (input) {
      if (skip && skip.indexOf(input.name) >= 0) return;
      var v = value(input);
      if (v !== undefined) out[input.name] = v;
    });
    return out;
  }

  function report(form, text, failed) {
    var box = form.querySelector(".result");
    box.textContent = text;
    box.classList.toggle("error", !!failed);
  }

  var actions = {
    "create-site": async function (form) {
      var site = await DATAS.api("POST", "/api/v1/sites", body(form));
      var key = await DATAS.api("POST", "/api/v1/keys", {
        role: "site", site_id: site.site_id, name: "site " + site.site_id,
      });
      var secret = form.querySelector(".secret");
      secret.querySelector(".key").textContent = key.key;
      secret.hidden = false;
      return "Site " + site.site_id + " created.";
    },
    "add-target": async function (form) {
      var t = await DATAS.api("POST", "/api/v1/targets", body(form));
      return "Target " + t.name + " added (id " + t.target_id + ").";
    },
    "add-campaign": async function (form) {
      var c = await DATAS.api("POST", "/api/v1/campaigns", body(form, ["target_ids"]));
      var ids = value(form.elements.target_ids);
      if (ids && ids.length) {
        c = await DATAS.api("POST", "/api/v1/campaigns/" + c.campaign_id + "/targets", { target_ids: ids });
      }
      return "Campaign " + c.name + " added with " + c.target_count + " targets.";
    },
    "pause-site": async function (form, submitter) {
      var active = submitter && submitter.value === "true";
      var id = form.elements.site_id.value.trim();
      var s = await DATAS.api("PATCH", "/api/v1/sites/" + encodeURIComponent(id), { active: active });
      return "Site " + s.site_id + (s.active ? " resumed." : " paused.");
    },
  };

  document.addEventListener("submit", async function (event) {
    var form = event.target;
    var action = actions[form.dataset.action];
    if (!action) return;
    event.preventDefault();
    var buttons = form.querySelectorAll("button");
    buttons.forEach(function (b) { b.disabled = true; });
    try {
      report(form, await action(form, event.submitter), false);
      DATAS.refresh();
    } catch (e) {
      report(form, e.message, true);
    } finally {
      buttons.forEach(function (b) { b.disabled = false; });
    }
  });

  // Pause / resume buttons in tables (they live in refreshed parts: delegate from document).
  document.addEventListener("click", async function (event) {
    var button = event.target.closest("button.site-active");
    if (!button) return;
    button.disabled = true;
    var result = button.parentElement.querySelector(".result");
    try {
      await DATAS.api("PATCH", "/api/v1/sites/" + encodeURIComponent(button.dataset.site),
        { active: button.dataset.active === "true" });
      await DATAS.refresh();
    } catch (e) {
      if (result) result.textContent = e.message;
      button.disabled = false;
    }
  });
})();
