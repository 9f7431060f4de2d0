# One date style on French pages: « 25 avril 2013 ».
DATE_FORMAT = "j F Y"
DATETIME_FORMAT = "j F Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
YEAR_MONTH_FORMAT = "F Y"
TIME_FORMAT = "H:i"
