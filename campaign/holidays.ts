// Public holidays from the maintained `date-holidays` package, expanded to plain dates when a
// campaign is compiled so that the interpreter needs no holiday rules at run time.
import Holidays from 'date-holidays';

export const HOLIDAY_YEARS = { from: 2024, to: 2035 };

/** Whether `date-holidays` knows the country (e.g. 'JP', 'US', 'DE', 'GB'). */
export function knownHolidayCountry(country: string): boolean {
  return Boolean(new Holidays().getCountries()[country.toUpperCase()]);
}

/** Public holidays of the country as YYYY-MM-DD, for the years campaigns may run in (memoised: expanding is slow). */
const expanded = new Map<string, string[]>();

export function publicHolidayDates(country: string, years = HOLIDAY_YEARS): string[] {
  const key = `${country.toUpperCase()}:${years.from}-${years.to}`;
  let dates = expanded.get(key);
  if (!dates) {
    dates = expandHolidays(country, years);
    expanded.set(key, dates);
  }
  return [...dates];
}

/**
 * Shared business calendars: a country's public holidays plus the days its businesses close.
 * jp-business: Japan's holidays, 年末年始 (29 December – 3 January) and お盆 (13–16 August).
 */
export const SHARED_CALENDARS: Record<string, { country: string; closed: { from: string; to: string }[] }> = {
  'jp-business': { country: 'JP', closed: [{ from: '12-29', to: '01-03' }, { from: '08-13', to: '08-16' }] },
};

/** The dates of a calendar name — a country code or a shared calendar — or undefined when unknown. */
export function calendarDates(name: string, years = HOLIDAY_YEARS): string[] | undefined {
  const shared = SHARED_CALENDARS[name.toLowerCase()];
  if (!shared) return knownHolidayCountry(name) ? publicHolidayDates(name, years) : undefined;
  const dates = new Set(publicHolidayDates(shared.country, years));
  for (let year = years.from; year <= years.to; year++) {
    for (const { from, to } of shared.closed) {
      // A range that runs into the next year (12-29 … 01-03) ends there.
      const end = to < from ? `${year + 1}-${to}` : `${year}-${to}`;
      for (const date of datesBetween(`${year}-${from}`, end)) dates.add(date);
    }
  }
  return [...dates].sort();
}

/** Every date from `from` to `to` (YYYY-MM-DD, both included). */
export function datesBetween(from: string, to: string): string[] {
  const dates: string[] = [];
  for (let day = Date.parse(`${from}T00:00:00Z`); day <= Date.parse(`${to}T00:00:00Z`); day += 86_400_000) dates.push(new Date(day).toISOString().slice(0, 10));
  return dates;
}

function expandHolidays(country: string, years: { from: number; to: number }): string[] {
  const calendar = new Holidays(country.toUpperCase());
  const dates = new Set<string>();
  for (let year = years.from; year <= years.to; year++) {
    for (const holiday of calendar.getHolidays(year)) {
      if (holiday.type === 'public') dates.add(holiday.date.slice(0, 10));
    }
  }
  return [...dates].sort();
}
