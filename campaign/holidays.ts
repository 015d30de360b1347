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
