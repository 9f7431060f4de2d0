# One date style on English pages, the one Chicago notes use: "April 25, 2013".
DATE_FORMAT = "F j, Y"
DATETIME_FORMAT = "F j, Y, H:i"
SHORT_DATE_FORMAT = "M j, Y"
YEAR_MONTH_FORMAT = "F Y"
TIME_FORMAT = "H:i"
