// Internal to the HTML report: its tables (destinations, claimed names,
// DNS, denials, proxy failures, errors, warnings), rendered in
// report_html_tables.cpp.
#pragma once
#include <string>

#include "net/events/report_html.hpp"

namespace netpen::events::detail_html {

std::string tables(const summary& s, const timeline& t);

}  // namespace netpen::events::detail_html
