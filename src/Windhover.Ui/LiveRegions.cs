namespace Windhover.Ui;

/// <summary>
/// Live refresh of list pages (home, executions): while a region marked <c>data-live-region</c> says
/// <c>data-active="true"</c> (something is running), the page is fetched again every two seconds and those regions are
/// swapped in place (forms and focus outside them are kept). Polling stops once nothing is running.
/// </summary>
internal static class LiveRegions
{
    public const string Script = """
        <script>
        (() => {
          const tick = async () => {
            const regions = [...document.querySelectorAll('[data-live-region]')];
            if (!regions.some(r => r.dataset.active === 'true')) return;
            try {
              const response = await fetch(location.href, { headers: { 'Accept': 'text/html' } });
              const next = new DOMParser().parseFromString(await response.text(), 'text/html');
              for (const region of regions) {
                const fresh = next.getElementById(region.id);
                if (fresh) region.replaceWith(fresh);
              }
            } catch { }
            setTimeout(tick, 2000);
          };
          setTimeout(tick, 2000);
        })();
        </script>
        """;
}
