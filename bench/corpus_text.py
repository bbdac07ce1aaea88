"""The words the benchmark corpus is made of: what a ceramics workshop writes on its blog.

Italian, like the first owners, with the things that make Markdown work: apostrophes and "straight
quotes" (so typographic quotes have something to do), emphasis, headings, lists and quotations.
Slots in braces are filled by :mod:`corpus` with a seeded random generator.
"""

from __future__ import annotations

OBJECTS = ["tazza", "caraffa", "brocca", "ciotola", "lampada", "formella", "insalatiera",
           "zuppiera", "teiera", "lanterna"]  # all feminine, so "una {obj} ben cotta" reads right
COLORS = ["blu cobalto", "verde ramina", "giallo limone", "bianco latte", "turchese", "ocra",
          "rosso bruno", "azzurro polvere", "grigio tortora", "arancio"]
PLACES = ["Montelupo", "Firenze", "Empoli", "Vinci", "Capraia", "Pisa", "Lucca", "Siena",
          "Prato", "Pistoia"]
PEOPLE = ["Chiara", "Marco", "la signora Giulia", "un cliente di Milano", "nostra nonna",
          "il vecchio Renzo", "Sara, l'apprendista", "un turista olandese"]
SEASONS = ["in primavera", "d'estate", "in autunno", "d'inverno", "sotto Natale", "a Pasqua"]

TAGS = ["smalti", "forno", "tornio", "tavola", "eventi", "bottega", "novita", "montelupo",
        "maiolica", "argilla", "decoro", "colori", "regali", "natale", "primavera", "estate",
        "laboratori", "corsi", "restauro", "storia", "ricette", "cura", "spedizioni", "fiere",
        "ospiti", "famiglia", "vasi", "piatti", "tazze", "lampade"]

CATEGORIES = {"Piatti": ["Piatto piano", "Piatto fondo", "Insalatiera"],
              "Tazze": ["Tazza", "Tazzina", "Teiera"], "Vasi": ["Vaso", "Brocca", "Anfora"],
              "Lampade": ["Lampada", "Lanterna"], "Decorazioni": ["Formella", "Angioletto"]}

TITLES = [
    "Il {color} che non ti aspetti", "Diario di bottega: {season}", "Come scegliere una {obj}",
    "{n} cose da sapere su una {obj}", "Una giornata al tornio", "Da {place} a casa vostra",
    "La nostra {obj} preferita", "Perché l'argilla ha bisogno di tempo", "Appunti sul {color}",
    "Cosa c'è nel forno questa settimana", "Ritorno a {place}", "Il \"difetto\" che amiamo",
    "Un'infornata di {obj} in {color}", "Lettera dalla bottega", "Domande che ci fate spesso",
]

SENTENCES = [
    "L'argilla arriva in bottega in pani da {n} chili, e prima di usarla la lasciamo riposare.",
    "Ogni {obj} passa dalle mani di {person} almeno tre volte prima di entrare nel forno.",
    "Qualcuno ci chiede se il {color} è \"vero\" o se è un effetto della foto: è vero, e "
    "cambia un po' con la luce.",
    "Lo smalto {color} è quello che ci dà più pensieri, perché con {n} gradi in più diventa opaco.",
    "Non c'è una regola fissa: dipende dall'umidità, dalla stagione e da quanto è carico il forno.",
    "D'estate l'argilla asciuga in fretta, d'inverno ci vogliono giorni, e {season} non sai mai "
    "cosa aspettarti.",
    "Abbiamo imparato a non avere fretta, anche quando un ordine da {place} aspetta.",
    "La parola \"maiolica\" viene probabilmente da Maiorca, l'isola da cui passavano le "
    "ceramiche spagnole.",
    "Una {obj} ben cotta suona come una campana quando la picchietti con un dito.",
    "Il decoro a pennello si fa in una sola passata: *non si può correggere*, e questo è il bello.",
    "Chi viene in bottega per la prima volta di solito resta sorpreso dal silenzio.",
    "{person} dice che il tornio è come la bicicletta: non si dimentica, ma si arrugginisce.",
    "Per una {obj} media servono circa {n} minuti al tornio e due giorni di asciugatura.",
    "Le ceramiche di {place} hanno una storia lunga, e noi ne siamo solo l'ultimo capitolo.",
    "Quest'anno abbiamo provato un nuovo {color}, e i primi pezzi sono usciti dal forno {season}.",
    "Se un pezzo esce storto non lo buttiamo: finisce nello scaffale dei \"secondi\", a metà "
    "prezzo.",
    "L'ossido di rame dà il verde, il cobalto il blu, l'antimonio il giallo: la tavolozza è quella "
    "di cinque secoli fa.",
    "Molti ci scrivono per sapere se i nostri pezzi vanno in lavastoviglie; la risposta breve è "
    "sì, con qualche accortezza.",
    "Un'infornata piena contiene più o meno {n} pezzi, tra piccoli e grandi.",
    "È un lavoro lento, ma è **proprio la lentezza** che si vede nel risultato.",
    "Chi compra una {obj} da noi sa chi l'ha fatta, e può venire a vedere come.",
    "Il bordo di un piatto è la parte più difficile: troppo sottile si scheggia, troppo spesso "
    "pesa.",
    "Ci piace quando un cliente torna dopo anni con un pezzo rotto e ci chiede di rifarlo uguale.",
    "Il nostro forno ha {n} anni e qualche capriccio, ma ormai lo conosciamo bene.",
    "Prima della cottura lo smalto è grigio e polveroso: i colori veri si vedono solo dopo.",
    "Una signora di {place} ci ha detto: \"Questa {obj} mi ricorda quella di mia nonna.\" Non c'è "
    "complimento migliore.",
    "Le fiere ci piacciono, ma il posto dove ci si capisce meglio resta la bottega.",
    "Usiamo solo smalti senza piombo, certificati per il contatto con gli alimenti.",
    "Ogni pezzo porta sul fondo la nostra firma e l'anno in cui è nato.",
    "Il {color} su fondo bianco è un classico di {place}, e non passa mai di moda.",
    "{person} ha un quaderno dove annota ogni cottura: data, programma, e com'è andata.",
    "Non chiamateli \"difetti\": sono le tracce della mano che ha lavorato il pezzo.",
    "A volte un colore nasce per sbaglio, e poi passiamo mesi a cercare di rifarlo apposta.",
    "Le ordinazioni {season} arrivano tutte insieme, e il laboratorio si riempie di scatole.",
    "Imballiamo ogni {obj} con carta di giornale e paglia, come si è sempre fatto.",
    "C'è chi preferisce il {color} lucido e chi lo vuole opaco: noi li facciamo tutti e due.",
    "Dopo {n} anni di lavoro, l'argilla ci sorprende ancora.",
    "Il segreto, se ce n'è uno, è *guardare* molto e parlare poco.",
    "Abbiamo rifatto il catalogo da capo, e stavolta le foto le ha scattate {person}.",
    "Un'ora al tornio vale più di un giorno di teoria: per questo i corsi sono tutti pratici.",
]

HEADINGS = [
    "Come nasce una {obj}", "Il {color}, da vicino", "Perché ci vuole tempo",
    "Cosa abbiamo imparato", "Dal tornio al forno", "Due parole sugli smalti",
    "Domande che ci fate spesso", "Un po' di storia", "Cosa c'è di nuovo",
    "Come prendersene cura", "Le ceramiche di {place}", "Il \"nostro\" metodo",
    "Prima e dopo la cottura", "Quello che non si vede", "Per chi viene a trovarci",
]

BULLETS = [
    "argilla rossa di {place}", "smalto {color}, senza piombo", "cottura a {n} gradi",
    "asciugatura lenta, almeno due giorni", "decoro a pennello, a mano libera",
    "firma sul fondo", "imballo con carta e paglia", "un'altezza di circa {n} cm",
    "adatta alla lavastoviglie (ma a mano dura di più)", "pezzo unico: ognuno è un po' diverso",
    "*prima* cottura a 950 gradi", "smaltatura a immersione", "ritiro in bottega o spedizione",
]

STEPS = [
    "Si impasta l'argilla e si tolgono le bolle d'aria.",
    "Si centra la palla sul tornio.",
    "Si apre la forma e si tira su la parete.",
    "Si rifinisce il piede quando il pezzo è \"a cuoio\".",
    "Prima cottura, il \"biscotto\", a circa 950 gradi.",
    "Smaltatura a immersione, con un gesto solo.",
    "Decoro a pennello, dal colore più chiaro al più scuro.",
    "Seconda cottura, e poi si aspetta che il forno si raffreddi.",
]

QUOTES = [
    "\"Il forno non si apre prima del tempo.\" È la prima regola della bottega.",
    "\"Le mani imparano prima della testa\", diceva {person}.",
    "Ogni pezzo racconta la giornata in cui è stato fatto: il caldo, la fretta, l'allegria.",
    "\"Un piatto si guarda, ma soprattutto si usa.\"",
]

POST_LINKS = [
    "Ne abbiamo parlato anche in [{title}]({url}).",
    "Chi si è perso la puntata precedente la trova qui: [{title}]({url}).",
    "Per i dettagli tecnici c'è l'articolo \"[{title}]({url})\".",
]

PRODUCT_LINKS = [
    "Se vi interessa, date un'occhiata a [{title}]({url}) nel catalogo.",
    "Il pezzo di cui parliamo è [{title}]({url}), ancora disponibile.",
]

EXTERNAL_LINKS = [
    "Per la storia completa c'è la voce [maiolica](https://it.wikipedia.org/wiki/Maiolica) di "
    "Wikipedia.",
    "Il [Museo della Ceramica](https://www.museomontelupo.it/) merita una visita.",
]
