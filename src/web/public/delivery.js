// The delivery page's small helpers (no inline scripts under the CSP).
// 1. The emailed link carries the token in the URL fragment, which browsers never send to the server.
//    Move it into the form, drop it from the address bar and history, and post it.
// 2. Copy buttons and a client-side .env download on the secret page.
(function () {
  'use strict';
  var form = document.getElementById('open-form');
  if (form && location.hash.length > 1) {
    var token = decodeURIComponent(location.hash.slice(1));
    history.replaceState(null, '', location.pathname + location.search);
    var input = document.getElementById('link');
    if (input && /^[A-Za-z0-9_-]{43}$/.test(token)) {
      input.value = token;
      form.submit();
    }
  }

  document.querySelectorAll('[data-copy]').forEach(function (button) {
    if (!navigator.clipboard) return;
    button.hidden = false;
    button.addEventListener('click', function () {
      var el = document.getElementById(button.getAttribute('data-copy'));
      var label = button.textContent;
      navigator.clipboard.writeText(el.textContent.trim()).then(function () {
        button.textContent = button.getAttribute('data-copied') || 'Copied';
        setTimeout(function () {
          button.textContent = label;
        }, 2000);
      });
    });
  });

  var download = document.getElementById('download-env');
  var envFile = document.getElementById('env-file');
  if (download && envFile && window.Blob && URL.createObjectURL) {
    download.hidden = false;
    download.addEventListener('click', function () {
      var url = URL.createObjectURL(new Blob([envFile.textContent], { type: 'text/plain' }));
      var a = document.createElement('a');
      a.href = url;
      a.download = download.getAttribute('data-file') || 'credentials.env';
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(function () {
        URL.revokeObjectURL(url);
      }, 1000);
    });
  }
})();
