// Filters for the oauthlint HTML report: plain JS, no dependencies.
// A finding card is shown when its severity, party and outcome are
// ticked and it matches the chosen rule. A badge on a diagram stands for
// several findings (data-members, the ids of their cards): it shows how
// many of them are shown, links to the first, and hides when none is.
(function () {
  'use strict';
  var form = document.getElementById('filters');
  if (!form) {
    return;
  }
  var counter = document.getElementById('filter-count');
  var total = Number(counter.getAttribute('data-total'));

  function ticked(name) {
    var set = {};
    var boxes = form.querySelectorAll('input[name="' + name + '"]');
    for (var i = 0; i < boxes.length; i++) {
      if (boxes[i].checked) {
        set[boxes[i].value] = true;
      }
    }
    return set;
  }

  function apply() {
    var severity = ticked('severity');
    var party = ticked('party');
    var outcome = ticked('outcome');
    var rule = form.elements.namedItem('rule').value;
    var shown = 0;
    var items = document.querySelectorAll('[data-finding]');
    for (var i = 0; i < items.length; i++) {
      var el = items[i];
      var ok = severity[el.getAttribute('data-severity')] === true &&
        party[el.getAttribute('data-party')] === true &&
        outcome[el.getAttribute('data-outcome')] === true &&
        (rule === '' || el.getAttribute('data-rule') === rule);
      // classList works on HTML and SVG elements alike (SVG has no
      // "hidden" property).
      el.classList.toggle('filtered-out', !ok);
      if (ok && el.classList.contains('finding')) {
        shown++;
      }
    }
    var markers = document.querySelectorAll('svg a.marker');
    for (var m = 0; m < markers.length; m++) {
      var ids = markers[m].getAttribute('data-members').split(' ');
      var shownIds = [];
      for (var k = 0; k < ids.length; k++) {
        var card = document.getElementById(ids[k]);
        if (card && !card.classList.contains('filtered-out')) {
          shownIds.push(ids[k]);
        }
      }
      markers[m].classList.toggle('filtered-out', shownIds.length === 0);
      if (shownIds.length > 0) {
        markers[m].setAttribute('href', '#' + shownIds[0]);
        markers[m].querySelector('text').textContent = shownIds.length > 1 ? String(shownIds.length) : '!';
      }
    }
    var groups = document.querySelectorAll('.finding-group');
    for (var g = 0; g < groups.length; g++) {
      var n = groups[g].querySelectorAll('.finding:not(.filtered-out)').length;
      groups[g].classList.toggle('filtered-out', n === 0);
      groups[g].querySelector('.group-count').textContent = String(n);
    }
    counter.textContent = shown + ' of ' + total + ' findings shown';
  }

  form.addEventListener('change', apply);
  form.addEventListener('reset', function () {
    // The form's fields are reset after the event: apply on the next turn.
    setTimeout(apply, 0);
  });
  form.addEventListener('submit', function (e) {
    e.preventDefault();
  });
  apply();
}());
