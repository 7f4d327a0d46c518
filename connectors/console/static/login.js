/* Signs in from the link omnibot logs when it generates the console token
   (/agent#token=…): a fragment never reaches a server, a proxy or an access log. The token
   leaves the address bar (and the history) before the form posts it. */
(function () {
  "use strict";
  var match = /^#token=([^&]+)/.exec(location.hash);
  if (!match) return;
  history.replaceState(null, "", location.pathname + location.search);
  var form = document.getElementById("login-form");
  var input = document.getElementById("token");
  if (!form || !input) return;
  try {
    input.value = decodeURIComponent(match[1]);
  } catch (e) {
    return; // not a token we wrote: let the agent type it
  }
  form.submit();
})();
